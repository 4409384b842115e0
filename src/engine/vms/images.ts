import fs from 'node:fs';
import path from 'node:path';
import { AlreadyExistsError, ConflictError, InvalidArgumentError, NotFoundError } from '../../core/errors.ts';
import type { Layout } from '../../core/paths.ts';
import type { QemuImg } from '../../drivers/qemu/qemu-img.ts';
import type { Database } from '../../drivers/store/database.ts';
import type { VmImageRecord } from '../api/vms.ts';
import type { EventLog } from '../events/service.ts';
import type { References } from '../references.ts';
import { VmImageStore } from './image-store.ts';

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;
const ISO9660_MAGIC_OFFSET = 0x8001;

export class VmImageService {
  readonly #db: Database;
  readonly #store: VmImageStore;
  readonly #dir: string;
  readonly #qemuImg: QemuImg;
  readonly #events: EventLog | undefined;
  readonly #refs: References;

  constructor(opts: {
    layout: Layout;
    db: Database;
    qemuImg: QemuImg;
    events?: EventLog;
    /** The VMs whose disks are clones of an image: it cannot be removed while they exist. */
    references: References;
  }) {
    this.#db = opts.db;
    this.#store = new VmImageStore(opts.db);
    this.#dir = path.join(opts.layout.root, 'vm-images');
    this.#qemuImg = opts.qemuImg;
    this.#events = opts.events;
    this.#refs = opts.references;
  }

  async import(file: string, name: string): Promise<VmImageRecord> {
    if (!NAME_RE.test(name))
      throw new InvalidArgumentError(`invalid image name "${name}": [a-zA-Z0-9_.-], up to 64`);
    if (!fs.existsSync(file)) throw new InvalidArgumentError(`no such file: ${file}`);
    if (this.find(name)) throw new AlreadyExistsError(`VM image ${name} already exists`);
    this.#db.space.requireRoom(`cannot import VM image ${name}`);
    fs.mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const iso = isIso(file);
    const target = path.join(this.#dir, `${name}.${iso ? 'iso' : 'qcow2'}`);
    const partial = `${target}.partial`;
    try {
      if (iso) fs.copyFileSync(file, partial);
      else {
        const info = await this.#qemuImg.info(file);
        if (info.format !== 'qcow2' && info.format !== 'raw')
          throw new InvalidArgumentError(
            `${file}: format ${info.format} is not supported (qcow2, raw or iso)`,
          );
        if (info.backingFile)
          throw new InvalidArgumentError(`${file} has a backing file: import a standalone image`);
        await this.#qemuImg.convert(file, info.format, partial);
      }
      fs.renameSync(partial, target);
    } catch (err) {
      fs.rmSync(partial, { force: true });
      throw err;
    }
    const virtualSize = iso ? fs.statSync(target).size : (await this.#qemuImg.info(target)).virtualSize;
    const rec: VmImageRecord = {
      name,
      kind: iso ? 'iso' : 'disk',
      path: target,
      virtualSize,
      source: path.resolve(file),
      created: Date.now(),
    };
    try {
      this.#store.insert(rec);
    } catch (err) {
      fs.rmSync(target, { force: true });
      throw err;
    }
    this.#events?.record('vm', 'image-import', name, { name, source: rec.source });
    return rec;
  }

  list(): VmImageRecord[] {
    return this.#store.list();
  }

  find(name: string): VmImageRecord | undefined {
    return this.#store.find(name);
  }

  get(name: string): VmImageRecord {
    const rec = this.find(name);
    if (!rec) throw new NotFoundError(`no such VM image: ${name} (see vm image ls)`);
    return rec;
  }

  remove(name: string): void {
    const rec = this.get(name);
    const users = this.#refs.vmsOfBaseImage(name);
    if (users.length > 0) throw new ConflictError(`VM image ${name} is in use by ${users.join(', ')}`);
    this.#store.delete(name);
    fs.rmSync(rec.path, { force: true });
    this.#events?.record('vm', 'image-delete', name, { name });
  }
}

/** ISO 9660 images carry "CD001" at byte 0x8001. */
function isIso(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(5);
    const n = fs.readSync(fd, buf, 0, 5, ISO9660_MAGIC_OFFSET);
    return n === 5 && buf.toString('latin1') === 'CD001';
  } finally {
    fs.closeSync(fd);
  }
}
