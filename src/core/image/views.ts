import { type ImageInspect, inspectImage } from './inspect.ts';
import type { ImageDetails, ImageSummary } from './records.ts';

/**
 * docker-shaped views of images, shared by the CLI (`image inspect`) and the docker-compatible API
 * (`GET /images/json`, `GET /images/{name}/json`, `GET /system/df`). Pure: all they show comes in the records.
 */

/** docker's ImageSummary, as `GET /images/json` and `GET /system/df` give it. */
export function imageSummaryView(i: ImageSummary): Record<string, unknown> {
  return {
    Id: i.id,
    ParentId: '',
    RepoTags: i.repoTags,
    RepoDigests: i.repoDigests,
    Created: i.created,
    Size: i.size,
    SharedSize: -1,
    VirtualSize: i.size,
    Labels: {},
    Containers: i.containers,
  };
}

/** docker's image inspect object. */
export function imageInspectView(d: ImageDetails): ImageInspect {
  const out = inspectImage({
    id: d.id,
    names: d.names,
    config: d.config,
    size: d.size,
    lowerDirs: d.lowerDirs,
  });
  out.RepoDigests = d.repoDigests;
  return out;
}
