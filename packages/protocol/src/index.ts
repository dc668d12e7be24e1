export {
  FAILURES,
  FAILURE_CODES,
  FailureCodeSchema,
  FailureSchema,
  failure,
  fail,
  ok,
} from './failures';
export { quote } from './quote';
export { MAX_DURATION_MS, formatDuration, parseDuration } from './duration';
export { LEASE_PREFIX, LeaseMsSchema, MAX_LEASE_MS, MIN_LEASE_MS, formatLease, parseLease } from './lease';
export { formatAddress, parseAddress, parseAddressList } from './address';
export type { Failure, FailureCode, Result } from './failures';
export { formatFailure, parseFailure } from './failure-line';
export { DEFAULT_MAX_LINE_BYTES, LineSplitter } from './line-splitter';
export type { FramedLine } from './line-splitter';
export {
  AmountSchema,
  EndpointSchema,
  HostSchema,
  MAX_UNIT_LENGTH,
  PortSchema,
  TokenSchema,
  UnitSchema,
  isUnit,
  canonicalHost,
  formatAmount,
  parseAmount,
  parseHost,
  parsePort,
  parseToken,
  parseUnit,
  firstWord,
  tokenize,
} from './tokens';
export type { Endpoint, Unit, UnitPair } from './tokens';
export {
  AddRequestSchema,
  DiscoveryRequestSchema,
  FeaturesRequestSchema,
  HelpRequestSchema,
  ListRequestSchema,
  LookupMultiRequestSchema,
  LookupRequestSchema,
  PingRequestSchema,
  RemovePairRequestSchema,
  RemoveRequestSchema,
  ReportRequestSchema,
  SessionRequestSchema,
  UnitsSchema,
  WatchRequestSchema,
  formatDiscoveryRequest,
  parseDiscoveryRequest,
} from './discovery-request';
export type { DiscoveryRequest, DiscoveryVerb } from './discovery-request';
export {
  DISCOVERY_HELP,
  DiscoveryReplySchema,
  END,
  FeatureSchema,
  HealthSchema,
  ListedRegistrationSchema,
  PathHopSchema,
  SESSION_ACK,
  createDiscoveryReplyReader,
  formatDiscoveryReply,
  parseDiscoveryReply,
} from './discovery-reply';
export type { DiscoveryReply, DiscoveryReplyReader, Health, ListedRegistration, PathHop, ReplyStep } from './discovery-reply';
export {
  ConversionReplySchema,
  ConversionRequestSchema,
  PERSIST,
  PERSIST_ACK,
  PERSIST_TAGGED,
  PERSIST_TAGGED_ACK,
  TRACE,
  TracedHopSchema,
  formatTracedHop,
  parseConversionCommand,
  parseTracedHop,
  GreetingSchema,
  formatConversionReply,
  formatConversionRequest,
  formatGreeting,
  parseConversionReply,
  parseConversionRequest,
  parseGreeting,
  splitTag,
} from './conversion';
export type { ConversionCommand, ConversionReply, ConversionRequest, Greeting, TracedHop } from './conversion';
export {
  GraphLayoutSchema,
  LayoutNodeSchema,
  StatusEndpointSchema,
  StatusPoolSchema,
  StatusReportSchema,
} from './status-report';
export type { GraphLayout, LayoutNode, StatusEndpoint, StatusPool, StatusReport } from './status-report';
export { OutlierRecordSchema, ProxyFiguresSchema, WatcherStatusSchema } from './proxy-figures';
export type { OutlierRecord, ProxyFigures, WatcherStatus } from './proxy-figures';
export { EpochSchema, WatchPositionSchema, WatchSeqSchema, WatcherNameSchema } from './watch-position';
export type { WatchPosition } from './watch-position';
export {
  ChangeKindSchema,
  WatchChangeSchema,
  WatchEntrySchema,
  formatSynced,
  formatWatchChange,
  formatWatchEntry,
  isChangeLine,
  parseWatchLine,
} from './watch';
export type { ChangeKind, WatchChange, WatchEntry, WatchLine } from './watch';
export { classifyConverterReply } from './reply-class';
export type { ConverterReplyClass } from './reply-class';
