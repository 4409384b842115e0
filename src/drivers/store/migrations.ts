/**
 * Schema migrations, applied in order; PRAGMA user_version records how many ran. Never edit a released entry:
 * append a new one. JSON columns hold typed documents defined in core/ (validated when they enter the system).
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE images (
    id TEXT PRIMARY KEY,              -- sha256:<hex> of the image config blob
    manifest_digest TEXT NOT NULL,    -- sha256:<hex> of the OCI manifest blob
    created_at INTEGER NOT NULL,      -- ms since epoch, when it entered this store
    size INTEGER NOT NULL,            -- sum of uncompressed layer sizes
    created INTEGER,                  -- unix seconds from the config's "created", NULL when it has none
    removed INTEGER NOT NULL DEFAULT 0 -- 1: deleted by the user (rmi -f) but kept while a container still uses it
  );
  CREATE TABLE image_layers (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,        -- 0 = base layer
    chain_id TEXT NOT NULL,           -- unpacked under layers/<chain id hex>
    blob_digest TEXT NOT NULL,        -- the layer blob as stored (maybe compressed)
    PRIMARY KEY (image_id, position)
  );
  CREATE INDEX image_layers_by_chain ON image_layers(chain_id);
  CREATE INDEX image_layers_by_blob ON image_layers(blob_digest);
  CREATE TABLE image_tags (
    name TEXT PRIMARY KEY,            -- normalised reference: docker.io/library/busybox:1
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
  );
  CREATE INDEX image_tags_by_image ON image_tags(image_id);
  CREATE TABLE layers (
    chain_id TEXT PRIMARY KEY,        -- sha256:<hex> chain id (OCI image spec)
    diff_id TEXT NOT NULL,
    parent TEXT,                      -- chain id of the layer below, NULL for a base layer
    size INTEGER NOT NULL             -- bytes unpacked
  );
  CREATE TABLE containers (
    id TEXT PRIMARY KEY,              -- 64 hex characters
    name TEXT NOT NULL UNIQUE,
    image_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    config TEXT NOT NULL,             -- JSON ContainerConfig
    state TEXT NOT NULL               -- JSON ContainerState
  );
  CREATE INDEX containers_by_image ON containers(image_id);
  CREATE TABLE volumes (
    name TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    driver TEXT NOT NULL DEFAULT 'local',
    labels TEXT NOT NULL DEFAULT '{}',
    options TEXT NOT NULL DEFAULT '{}'
  );
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time_nano INTEGER NOT NULL,
    type TEXT NOT NULL,               -- container | image | volume | network
    action TEXT NOT NULL,             -- create, start, die, oom, destroy, pull, import, delete, ...
    actor_id TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX events_by_time ON events(time_nano);
  `,
  `
  CREATE TABLE image_digests (
    name TEXT PRIMARY KEY,            -- repository@digest a registry serves it as: docker.io/library/busybox@sha256:...
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
  );
  CREATE INDEX image_digests_by_image ON image_digests(image_id);
  `,
  `
  CREATE TABLE networks (
    id TEXT PRIMARY KEY,              -- 64 hex
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    doc TEXT NOT NULL                 -- JSON NetworkRecord (core/network/types.ts)
  );
  CREATE TABLE net_endpoints (
    id TEXT PRIMARY KEY,              -- 64 hex
    network_id TEXT NOT NULL REFERENCES networks(id),
    owner_id TEXT NOT NULL,           -- container id (or VM id)
    doc TEXT NOT NULL,                -- JSON EndpointRecord
    UNIQUE (network_id, owner_id)
  );
  CREATE INDEX net_endpoints_by_owner ON net_endpoints(owner_id);
  CREATE TABLE net_leases (
    network_id TEXT NOT NULL REFERENCES networks(id),
    address TEXT NOT NULL,            -- dotted quad
    owner_id TEXT NOT NULL,
    kind TEXT NOT NULL,               -- container | vm
    created_at INTEGER NOT NULL,
    PRIMARY KEY (network_id, address)
  );
  CREATE INDEX net_leases_by_owner ON net_leases(owner_id);
  `,
  `
  CREATE TABLE ledger_reservations (
    owner_id TEXT PRIMARY KEY,        -- the VM's id
    owner_name TEXT NOT NULL,
    kind TEXT NOT NULL,               -- vm
    cpus TEXT NOT NULL,               -- JSON array of dedicated logical CPU numbers
    memory_bytes INTEGER NOT NULL,
    disk_bytes INTEGER NOT NULL,
    overcommitted INTEGER NOT NULL,   -- 1 when admitted only thanks to the overcommit policy
    created_at INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE vms (
    id TEXT PRIMARY KEY,              -- 64 hex
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    config TEXT NOT NULL,             -- JSON VmConfig (core/vm/config.ts)
    state TEXT NOT NULL               -- JSON VmState (core/vm/state.ts)
  );
  CREATE TABLE vm_images (
    name TEXT PRIMARY KEY,            -- a base image for --image, stored as vm-images/<name>.qcow2
    created_at INTEGER NOT NULL,
    doc TEXT NOT NULL                 -- JSON VmImageRecord (engine/vms/images.ts)
  );
  `,
];
