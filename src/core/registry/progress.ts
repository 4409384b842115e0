/**
 * Progress of a pull or push, in docker's words, one event per change of a layer's state. `id` is the 12-hex
 * short digest of a layer (or config), or the tag for image-level lines. The CLI renders bars or plain lines.
 */
export type ProgressStatus =
  | 'Pulling fs layer'
  | 'Waiting'
  | 'Downloading'
  | 'Verifying Checksum'
  | 'Download complete'
  | 'Extracting'
  | 'Pull complete'
  | 'Already exists'
  | 'Preparing'
  | 'Pushing'
  | 'Pushed'
  | 'Layer already exists'
  | `Mounted from ${string}`;

export interface ProgressEvent {
  id: string;
  status: ProgressStatus | string;
  current?: number;
  total?: number;
}
