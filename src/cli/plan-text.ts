import { shortBinarySize } from '../core/human.ts';
import { amount } from '../core/ledger/plan.ts';
import type { PlanReport } from '../engine/api/host.ts';

export type { PlanReport };

const b = shortBinarySize;

function vmsWord(n: number): string {
  return `${n} ${n === 1 ? 'VM' : 'VMs'}`;
}

/** `hyperbox plan` as text: the inputs, one line of arithmetic per resource, the answer, overcommit, containers. */
export function planText(p: PlanReport): string {
  const h = p.host;
  const out: string[] = [];
  out.push(
    `Host (${h.source})   ${h.sockets > 1 ? `${h.sockets} sockets x ` : ''}${h.cores} cores x ${h.threads} ${
      h.threads === 1 ? 'thread' : 'threads'
    } = ${h.logicalCpus} logical CPUs, ${b(h.memoryBytes)} memory, ${b(h.diskBytes)} disk${
      h.source === 'live' ? ' (free under the state root, plus what VMs reserved)' : ''
    }`,
  );
  out.push(
    `Host reserve  ${amount('cpu', p.reserve.cpus)}, ${b(p.reserve.memoryBytes)} memory, ${b(p.reserve.diskBytes)} disk`,
  );
  out.push(
    `VM profile    ${amount('cpu', p.vm.cpus)} (dedicated), ${b(p.vm.memoryBytes)} memory, ${
      p.vm.diskBytes === 0 ? 'no disk' : `${b(p.vm.diskBytes)} disk`
    }`,
  );
  if (p.overcommit.cpu !== 1 || p.overcommit.memory !== 1) {
    out.push(`Overcommit    cpu=${p.overcommit.cpu}, memory=${p.overcommit.memory}`);
  }
  out.push('');
  for (const r of p.resources) out.push(`  ${r.resource.padEnd(7)} ${r.arithmetic}`);
  out.push('');
  out.push(`Maximum: ${vmsWord(p.maxVms)} + the host, bound by ${p.bindingResource}.`);
  if (p.now) {
    out.push(
      `Now: ${vmsWord(p.now.vms)} already ${p.now.vms === 1 ? 'holds' : 'hold'} reservations; ${p.now.moreVms} more ${
        p.now.moreVms === 1 ? 'VM fits' : 'VMs fit'
      } (bound by ${p.now.bindingResource}).`,
    );
  }
  out.push('');
  out.push('With overcommit (dedicated CPUs and memory shared between VMs up to a ratio):');
  for (const s of p.overcommitScenarios) {
    const name = `cpu=${s.overcommit.cpu},memory=${s.overcommit.memory}`;
    const none = s.overcommit.cpu === 1 && s.overcommit.memory === 1 ? ' (none)' : '';
    out.push(`  ${`${name}${none}`.padEnd(28)} ${vmsWord(s.maxVms).padEnd(8)} bound by ${s.bindingResource}`);
  }
  const c = p.containers;
  out.push('');
  out.push(
    `Containers instead (cpus=${c.profile.cpus}, memory=${b(c.profile.memoryBytes)} each; they share, so only their limits must add up to the host minus its reserve):`,
  );
  for (const r of c.resources) out.push(`  ${r.resource.padEnd(7)} ${r.arithmetic}`);
  const times = p.maxVms > 0 ? ` (${Math.floor(c.max / p.maxVms)}x the VMs)` : '';
  out.push(`  => ${c.max} containers, bound by ${c.bindingResource}${times}`);
  return `${out.join('\n')}\n`;
}
