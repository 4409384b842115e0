import type { ContainerConfig } from '../../core/container/config.ts';
import { FailedPreconditionError } from '../../core/errors.ts';
import {
  attributesJson,
  type LogConfig,
  type LogSettings,
  type LogSubject,
  logAttributes,
  logSettings,
} from '../../core/logs/log-config.ts';
import { fixedTime, parseUnixTimestamp } from '../../core/logs/timestamp.ts';
import type { LogFileFormat } from '../../drivers/logs/log-files.ts';
import { readLog, recordTime } from '../../drivers/logs/log-reader.ts';
import { startLogWriter, stopLogWriter, waitLogWriterGone } from '../../drivers/logs/log-writer.ts';
import type { LogRecord } from '../../drivers/logs/record.ts';
import type { ContainerRecord, LogChunk, LogsRequest } from '../api/containers.ts';
import type { ContainerPaths } from './files.ts';

/** The log config of a record: containers created before log drivers have conmon's k8s-file. */
export function logConfigOf(config: Pick<ContainerConfig, 'logConfig'>): LogConfig {
  // Validated at create (mergeLogConfig): the type is a driver's name.
  return (config.logConfig as LogConfig | undefined) ?? { type: 'k8s-file', config: {} };
}

/** The file a driver keeps (k8s-file, json-file, local), or undefined for `none`. */
export function logFileOf(
  config: Pick<ContainerConfig, 'logConfig'>,
  p: ContainerPaths,
): { file: string; format: LogFileFormat } | undefined {
  switch (logConfigOf(config).type) {
    case 'json-file':
      return { file: p.jsonLog, format: 'json-file' };
    case 'local':
      return { file: p.localLog, format: 'local' };
    case 'k8s-file':
      return { file: p.log, format: 'k8s-file' };
    case 'none':
      return undefined;
  }
}

/** How the monitor logs: to a file itself, into the log writer's FIFO, or not at all. */
export interface MonitorLog {
  /** conmon's `-l k8s-file:<path>`; absent: `-l none`. */
  path?: string;
  /** conmon's --log-size-max (truncation, k8s-file only). */
  sizeMax?: number;
}

/**
 * Starts what a container's log needs before its monitor: the log writer for json-file and local (which then owns
 * rotation), nothing for k8s-file (conmon writes the file) and none.
 */
export async function prepareLog(
  rec: ContainerRecord,
  p: ContainerPaths,
  writer: string,
): Promise<MonitorLog> {
  const cfg = logConfigOf(rec.config);
  const s: LogSettings = logSettings(cfg);
  if (s.driver === 'none') return {};
  if (s.driver === 'k8s-file') return { path: p.log, ...(s.maxSize > 0 ? { sizeMax: s.maxSize } : {}) };
  const attrs = logAttributes(cfg, subjectOf(rec));
  await startLogWriter(writer, {
    fifo: p.logFifo,
    file: s.driver === 'json-file' ? p.jsonLog : p.localLog,
    format: s.driver,
    maxSize: s.maxSize,
    maxFile: s.maxFile,
    compress: s.compress,
    // The local format carries no attributes: --details computes them from the config instead.
    ...(s.driver === 'json-file' && Object.keys(attrs).length > 0 ? { attrs: attributesJson(attrs) } : {}),
    errorFile: p.logWriterErrors,
    pidFile: p.logWriterPid,
  });
  return { path: p.logFifo };
}

function subjectOf(rec: ContainerRecord): LogSubject {
  return {
    id: rec.id,
    name: rec.name,
    imageId: rec.imageId,
    imageName: rec.config.image,
    labels: rec.config.labels,
    env: rec.config.env,
  };
}

/** After a failed create: the writer would wait for a monitor that never comes. */
export function abortLog(p: ContainerPaths): void {
  stopLogWriter(p.logWriterPid);
}

/** Until the writer has put on disk what the monitor handed it (it exits when the monitor has gone). */
export function logWritten(p: ContainerPaths): Promise<void> {
  return waitLogWriterGone(p.logWriterPid);
}

/**
 * The end of a run's log, once its monitor is gone: the writer exits by itself when the monitor's end of the FIFO
 * closes; one whose monitor never came (a start cut short by kill -9) would wait for it a minute, so after a short
 * grace it is stopped, and takes what the pipe still holds first.
 */
export async function finishLog(p: ContainerPaths): Promise<void> {
  await waitLogWriterGone(p.logWriterPid, 1000);
  stopLogWriter(p.logWriterPid);
  await waitLogWriterGone(p.logWriterPid);
}

/**
 * The container's log as output chunks: the driver's files read with bounded memory at any size (`tail` from the
 * end), filtered by time, formatted as docker does, and with `follow` what comes next until `stopped()`.
 */
export async function* readContainerLog(
  rec: ContainerRecord,
  p: ContainerPaths,
  req: LogsRequest,
  stopped: () => Promise<boolean>,
): AsyncGenerator<LogChunk> {
  const where = logFileOf(rec.config, p);
  if (!where) throw new FailedPreconditionError('configured logging driver does not support reading');
  const since =
    req.since !== undefined && req.since !== '' && req.since !== '0'
      ? fixedTime(parseUnixTimestamp(req.since))
      : undefined;
  const until =
    req.until !== undefined && req.until !== '' && req.until !== '0'
      ? fixedTime(parseUnixTimestamp(req.until))
      : undefined;
  const details = req.details ? detailsPrefix(rec) : undefined;
  const batches = readLog(where.file, where.format, {
    ...(req.tail !== undefined ? { tail: req.tail } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(req.follow ? { follow: { stopped, ...(req.signal ? { signal: req.signal } : {}) } } : {}),
  });
  for await (const batch of batches) {
    yield* formatBatch(batch, { timestamps: req.timestamps ?? false, details });
  }
}

/** --details: docker prints `k=v,k2=v2 ` (sorted, query-escaped) before each record; an empty set leaves the space. */
function detailsPrefix(rec: ContainerRecord): (r: LogRecord) => string {
  const cfg = logConfigOf(rec.config);
  const own = attributesText(logAttributes(cfg, subjectOf(rec)));
  const cache = new Map<string, string>();
  return (r) => {
    if (r.attrs === undefined) return own;
    let text = cache.get(r.attrs);
    if (text === undefined) {
      try {
        text = attributesText(JSON.parse(r.attrs) as Record<string, string>);
      } catch {
        text = '';
      }
      cache.set(r.attrs, text);
    }
    return text;
  };
}

function attributesText(attrs: Record<string, string>): string {
  return Object.keys(attrs)
    .sort()
    .map((k) => `${queryEscape(k)}=${queryEscape(String(attrs[k]))}`)
    .join(',');
}

/** Go's url.QueryEscape: only letters, digits and `-_.~` stay; a space is `+`. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function* formatBatch(
  batch: LogRecord[],
  opts: { timestamps: boolean; details: ((r: LogRecord) => string) | undefined },
): Generator<LogChunk> {
  let stream = batch[0]?.stream;
  let parts: Buffer[] = [];
  for (const r of batch) {
    if (r.stream !== stream) {
      if (parts.length > 0) yield { stream: stream!, data: Buffer.concat(parts) };
      parts = [];
      stream = r.stream;
    }
    // docker's order: the time, then the attributes, then the output.
    if (opts.timestamps) parts.push(Buffer.from(`${recordTime(r)} `));
    if (opts.details) parts.push(Buffer.from(`${opts.details(r)} `));
    parts.push(r.line);
  }
  if (parts.length > 0) yield { stream: stream!, data: Buffer.concat(parts) };
}
