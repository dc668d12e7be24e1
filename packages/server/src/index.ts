// @conv/server: the edge every conv server shares, written once: the line server, the process
// entry, flags and command lines, addresses, banners, the discovery client, and the operational
// shell (logs, the operator HTTP port, fast metrics). The one package besides the apps that
// opens sockets; the domain packages never import it.
export { freePorts, isLoopbackAddress, normalizePeerAddress } from './address';
export { exposureNote, formatBanner, isLoopbackHost, parseBanner } from './banner';
export { configKey, edgeFlags, flagsOf, readCommandLine } from './command-line';
export type { CommandLine, CommandSpec, EdgeDefaults, FlagSpec, ReadCommandLine } from './command-line';
export { DiscoverySession, RETURN_AFTER_MS, askDiscovery, isUnavailable } from './discovery-client';
export { DiscoveryReplicas } from './discovery-replicas';
export type { DiscoverySessionOptions } from './discovery-client';
export { WatchFollower } from './watch-follower';
export type { DiscoveryWatcher } from './watch-follower';
export { MAX_DURATION_MS, formatDuration, parseDuration } from '@conv/protocol';
export { SERVER_ERRORS, ServerError, defineErrors, isCodedError, listenFailure } from './errors';
export type { CodedError, ErrorTable } from './errors';
export { exchangeLines } from './exchange';
export { CounterSeries, FastCounter, FastHistogram, HistogramSeries } from './fast-metrics';
export type { MetricLabels, MetricSnapshot } from './fast-metrics';
export {
  addressFlag,
  countFlag,
  durationFlag,
  endpointsFlag,
  flagName,
  hostFlag,
  logLevelFlag,
  portFlag,
  switchFlag,
  textFlag,
  tokenFlag,
  validateFlags,
} from './flags';
export { healthzRoute, jsonReply, metricsRoute, startHttpServer, startOperatorPort } from './http-server';
export type { HttpLimits, HttpReply, HttpRoute, HttpServer, HttpServerOptions, OperatorPortOptions } from './http-server';
export { conversionServerOptions, startLineServer } from './line-server';
export type { LineServer, LineServerOptions, ListenConfig } from './line-server';
export type { Connection, ConnectionMode, LineSession, Peer } from './line-session';
export { LOG_LEVELS, REDACTED_FIELDS, createLogger, silentLogger } from './log';
export type { LogFields, LogLevel, Logger, LoggerOptions } from './log';
export { runServer } from './run-server';
export { stopWhenSupervisorLeaves } from './supervised';
export type { RunningServer, ServerProgram } from './run-server';
