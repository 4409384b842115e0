import type { LocalEngine } from '../../engine/local-engine.ts';
import { Router } from '../router.ts';
import { archiveRoutes } from './archive.ts';
import { AttachBroker } from './attach-broker.ts';
import { containerIoRoutes } from './container-io.ts';
import { containerRoutes } from './containers.ts';
import { execRoutes } from './exec.ts';
import { imageRoutes } from './images.ts';
import { networkRoutes } from './networks.ts';
import { systemRoutes } from './system.ts';
import { volumeRoutes } from './volumes.ts';

/** docker's Engine API (the subset the docker CLI 28 uses), one route file per resource group. */
export function dockerRouter(engine: LocalEngine): Router {
  const r = new Router();
  systemRoutes(r, engine);
  const broker = new AttachBroker();
  containerRoutes(r, engine, broker);
  containerIoRoutes(r, engine, broker);
  archiveRoutes(r, engine);
  execRoutes(r, engine);
  imageRoutes(r, engine);
  networkRoutes(r, engine);
  volumeRoutes(r, engine);
  return r;
}
