export { OBSERVABILITY_ERROR_CODES, ObservabilityError } from './errors';
export type { ObservabilityErrorCode } from './errors';
export { CounterSeries, FastCounter, FastHistogram, HistogramSeries } from './fast-metrics';
export type { MetricLabels, MetricSnapshot } from './fast-metrics';
export { DEFAULT_HTTP_EVENTS, healthzRoute, jsonReply, metricsRoute, startHttpServer, startOperatorPort } from './http-server';
export type { HttpEvents, HttpReply, HttpRoute, HttpServer, HttpServerOptions, OperatorPortOptions } from './http-server';
export { LOG_LEVELS, REDACTED_FIELDS, createLogger, silentLogger } from './log';
export type { LogFields, LogLevel, Logger, LoggerOptions } from './log';
export { stopWhenSupervisorLeaves } from './supervised';
