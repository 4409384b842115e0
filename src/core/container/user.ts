import { InvalidArgumentError, NotFoundError } from '../errors.ts';

/** Who a container's process runs as, after `user[:group]` was looked up in the image's files. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/**
 * Resolves docker's `--user` value against the text of the image's /etc/passwd and /etc/group (either may be
 * empty when the image has none). Docker's rules: an empty value is root; a numeric uid or gid need not exist in
 * the files (then the primary group is 0 and home is /); a name must exist; supplementary groups come from
 * /etc/group only when no group was given explicitly.
 */
export function resolveUser(
  spec: string | undefined,
  files: { passwd: string; group: string },
): ResolvedUser {
  const [userPart = '', groupPart, extra] = (spec ?? '').split(':');
  if (extra !== undefined) throw new InvalidArgumentError(`invalid user "${spec}": expected user[:group]`);
  const userArg = userPart === '' ? '0' : userPart;
  const passwd = parsePasswd(files.passwd);
  const groups = parseGroup(files.group);

  const result: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: '/' };
  let userName: string | undefined;
  const uidArg = numericId(userArg);
  const entry = passwd.find((e) => (uidArg === undefined ? e.name === userArg : e.uid === uidArg));
  if (entry) {
    result.uid = entry.uid;
    result.gid = entry.gid;
    result.home = entry.home;
    userName = entry.name;
  } else if (uidArg !== undefined) {
    result.uid = uidArg;
  } else {
    throw new NotFoundError(`unable to find user ${userArg}: no matching entries in passwd file`);
  }

  if (groupPart !== undefined && groupPart !== '') {
    const gidArg = numericId(groupPart);
    const group = groups.find((g) => (gidArg === undefined ? g.name === groupPart : g.gid === gidArg));
    if (group) result.gid = group.gid;
    else if (gidArg !== undefined) result.gid = gidArg;
    else throw new NotFoundError(`unable to find group ${groupPart}: no matching entries in group file`);
  } else if (userName !== undefined) {
    const name = userName;
    result.additionalGids = groups.filter((g) => g.members.includes(name)).map((g) => g.gid);
  }
  return result;
}

function numericId(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  // Linux ids are 32 bit; (uid_t)-1 is reserved as "no change".
  if (n >= 2 ** 32 - 1) throw new InvalidArgumentError(`invalid user or group id ${text}: out of range`);
  return n;
}

function records(text: string): string[][] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

/** passwd(5): name:password:uid:gid:gecos:home:shell. Malformed lines are skipped, as libc does. */
function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of records(text)) {
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (f.length < 4 || !f[0] || !Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0], uid, gid, home: f[5] || '/' });
  }
  return out;
}

/** group(5): name:password:gid:member,member. */
function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of records(text)) {
    const gid = Number(f[2]);
    if (f.length < 3 || !f[0] || f[2] === '' || !Number.isInteger(gid)) continue;
    out.push({ name: f[0], gid, members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}
