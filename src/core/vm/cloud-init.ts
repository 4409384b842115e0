/**
 * The cloud-init NoCloud seed of a VM booted from a disk image: meta-data (instance id, hostname), user-data (the
 * user's file, or a minimal #cloud-config carrying --ssh-key), and network-config v2 giving each NIC, matched by
 * MAC, the address hyperbox's IPAM leased. Pure text; the engine writes it to a directory QEMU shows as a disk.
 */
export interface CloudInitInput {
  readonly instanceId: string;
  readonly hostname: string;
  readonly userData?: string;
  readonly sshKeys: readonly string[];
  readonly nics: readonly {
    readonly mac: string;
    readonly address: string;
    readonly prefix: number;
    readonly gateway: string;
    readonly dns: string | undefined;
  }[];
}

export function cloudInitSeed(c: CloudInitInput): {
  metaData: string;
  userData: string;
  networkConfig: string;
} {
  const metaData = `instance-id: ${c.instanceId}\nlocal-hostname: ${c.hostname}\n`;
  let userData = c.userData ?? '#cloud-config\n';
  if (c.sshKeys.length > 0) {
    const keys = c.sshKeys.map((k) => `  - ${JSON.stringify(k.trim())}\n`).join('');
    // Appended as a top-level key of the user's #cloud-config; a user-data script is left as it is, with the keys
    // still given through meta-data (public-keys), which cloud-init reads for the default user too.
    if (userData.startsWith('#cloud-config'))
      userData = `${userData.replace(/\n?$/, '\n')}ssh_authorized_keys:\n${keys}`;
  }
  const eth = c.nics
    .map((n, i) => {
      const lines = [
        `    eth${i}:`,
        '      match:',
        `        macaddress: "${n.mac}"`,
        `      set-name: eth${i}`,
        `      addresses: [${n.address}/${n.prefix}]`,
      ];
      if (i === 0) lines.push(`      routes: [{to: default, via: ${n.gateway}}]`);
      if (n.dns) lines.push(`      nameservers: {addresses: [${n.dns}]}`);
      return lines.join('\n');
    })
    .join('\n');
  const networkConfig = c.nics.length ? `version: 2\nethernets:\n${eth}\n` : 'version: 2\nethernets: {}\n';
  const withKeys =
    c.sshKeys.length > 0
      ? `${metaData}public-keys:\n${c.sshKeys.map((k) => `  - ${JSON.stringify(k.trim())}\n`).join('')}`
      : metaData;
  return { metaData: withKeys, userData, networkConfig };
}
