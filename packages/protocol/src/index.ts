export {
  FAILURES,
  FAILURE_CODES,
  FailureCodeSchema,
  FailureSchema,
  failure,
  fail,
  ok,
  quote,
} from './failures';
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
  canonicalHost,
  formatAmount,
  parseAmount,
  parseHost,
  parsePort,
  parseToken,
  parseUnit,
  tokenize,
} from './tokens';
export type { Endpoint, Unit } from './tokens';
export {
  AddRequestSchema,
  DISCOVERY_HELP,
  DiscoveryReplySchema,
  DiscoveryRequestSchema,
  END,
  HealthSchema,
  HelpRequestSchema,
  ListRequestSchema,
  ListedRegistrationSchema,
  LookupMultiRequestSchema,
  LookupRequestSchema,
  PathHopSchema,
  PingRequestSchema,
  RemoveRequestSchema,
  UnitsSchema,
  createDiscoveryReplyReader,
  formatDiscoveryReply,
  formatDiscoveryRequest,
  parseDiscoveryReply,
  parseDiscoveryRequest,
} from './discovery';
export type {
  DiscoveryReplyReader,
  DiscoveryReply,
  DiscoveryRequest,
  DiscoveryVerb,
  Health,
  ListedRegistration,
  PathHop,
  ReplyStep,
} from './discovery';
export {
  ConversionReplySchema,
  ConversionRequestSchema,
  PERSIST,
  PERSIST_ACK,
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
} from './conversion';
export type { ConversionCommand, ConversionReply, ConversionRequest, Greeting, TracedHop } from './conversion';
