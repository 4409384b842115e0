import type { HistoryEntry, ImageConfig, ImageConfigFile } from './oci.ts';

/**
 * Config blobs we write (import) are serialised exactly as Go's encoding/json writes the OCI image-spec structs:
 * fields in struct order, empty ones omitted, `<`, `>`, `&` escaped, times in RFC 3339 with trailing zeros of the
 * fraction dropped. Tools written in Go (skopeo, podman, containerd) re-serialise configs when they convert
 * images; producing their bytes means the image id (the config digest) survives such a round trip.
 */
export function serializeConfig(c: ImageConfigFile): Buffer {
  const out: Record<string, unknown> = {};
  if (c.created !== undefined) out.created = c.created;
  if (c.author) out.author = c.author;
  out.architecture = c.architecture;
  out.os = c.os;
  if (c.variant) out.variant = c.variant;
  if (c.config !== undefined) out.config = orderedConfig(c.config);
  out.rootfs = { type: c.rootfs.type, diff_ids: c.rootfs.diff_ids };
  if (c.history?.length) out.history = c.history.map(orderedHistory);
  return Buffer.from(goEscape(JSON.stringify(out)));
}

function orderedConfig(c: ImageConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (c.User) out.User = c.User;
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) out.ExposedPorts = sortedKeys(c.ExposedPorts);
  if (c.Env?.length) out.Env = c.Env;
  if (c.Entrypoint?.length) out.Entrypoint = c.Entrypoint;
  if (c.Cmd?.length) out.Cmd = c.Cmd;
  if (c.Volumes && Object.keys(c.Volumes).length) out.Volumes = sortedKeys(c.Volumes);
  if (c.WorkingDir) out.WorkingDir = c.WorkingDir;
  if (c.Labels && Object.keys(c.Labels).length) out.Labels = sortedKeys(c.Labels);
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  return out;
}

function orderedHistory(h: HistoryEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (h.created !== undefined) out.created = h.created;
  if (h.created_by) out.created_by = h.created_by;
  if (h.author) out.author = h.author;
  if (h.comment) out.comment = h.comment;
  if (h.empty_layer) out.empty_layer = true;
  return out;
}

/** Go marshals maps with sorted keys. */
function sortedKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `2024-01-02T03:04:05.120Z` → `2024-01-02T03:04:05.12Z`, as Go's time.RFC3339Nano prints it. */
export function goTime(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0+Z$/, (_m, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}
