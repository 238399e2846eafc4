/**
 * `@agent-state/server`: the contract over HTTP/JSON, server-sent events and MCP, so agents that
 * are not Node processes (Python scripts, shell, AI coding agents) share the same state.
 */
export { serve, runServe, runMcpStdio, stopOnSignals } from './serve.js';
export type { ServeOptions, RunningServer } from './serve.js';
export { buildApp } from './http.js';
export type { App, AppOptions } from './http.js';
export { createMcpServer, McpContext, pathToResource, resourceToPath, PATH_RESOURCE_PREFIX, MCP_HEARTBEAT_INTERVAL_MS } from './mcp.js';
export { Ops, parseFence } from './ops.js';
export type { Fence, ClaimedJobView, LogRecordView } from './ops.js';
export { STATUS_BY_CODE, HttpError, toWire } from './errors.js';
export { resolveToken, tokenMatches, defaultTokenFile } from './token.js';
export const SERVER_VERSION = '0.1.0';
export { httpSubject, bareHttpSubject, openHttpSubject, serverWorkloads, serverSubjects, benchConfigFor, HTTP_CLIENTS } from './bench.js';
export type { BenchStoreRef, HttpBenchSubject } from './bench.js';
export { SnapshotTaker } from './snapshot.js';
export type { Snapshot, QueueView, DeadLetterView, LockView } from './snapshot.js';
export { registerDashboard, DASHBOARD_COOKIE } from './dashboard.js';
export { Metrics } from './metrics.js';
