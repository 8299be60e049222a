// What every section's validation shares: how a problem is reported, and the rules more than one
// section applies (JVM sizing, identifiers, folders inside the repository).
import * as path from 'path';

/** Records one problem: the field, the value it had, and why it is refused. */
export type Problem = (field: string, value: unknown, why: string) => void;

/** CPU and memory one container may use (limits) and what it needs at rest (requests). */
export interface Resources {
  /** CPU cores it may use (limit), fractional allowed. */
  readonly cpu: number;
  /** Memory limit in MiB. */
  readonly memoryMiB: number;
  /**
   * What it uses at rest: the share of a node Kubernetes reserves for it when placing pods (each
   * at most its limit). Docker has no reservations and uses only the limits.
   */
  readonly requests: ResourceRequests;
}

/** CPU cores and MiB a container is scheduled with on Kubernetes. */
export interface ResourceRequests {
  readonly cpu: number;
  readonly memoryMiB: number;
}

/** Resources of a JVM service: the heap must fit inside the memory limit with room for the JVM itself. */
export interface JvmResources extends Resources {
  /** -Xmx in MiB. */
  readonly heapMiB: number;
}

/** JVM metaspace, thread stacks, code cache and direct buffers need room beyond the heap. */
export const JVM_OVERHEAD_MIB = 256;

/** The heap plus the JVM's own overhead must fit the container's memory limit. */
export function checkJvmFits(section: string, r: JvmResources, bad: Problem): void {
  if (r.heapMiB + JVM_OVERHEAD_MIB > r.memoryMiB)
    bad(`${section}.resources.memoryMiB`, r.memoryMiB, `cannot fit ${section}.resources.heapMiB (${r.heapMiB}) plus ${JVM_OVERHEAD_MIB} MiB JVM overhead`);
}

/** A request above its limit cannot be scheduled as meant (Kubernetes refuses the pod). */
export function checkRequestsFit(section: string, r: Resources, bad: Problem): void {
  if (r.requests.cpu > r.cpu) bad(`${section}.resources.requests.cpu`, r.requests.cpu, `cannot exceed the limit ${section}.resources.cpu (${r.cpu})`);
  if (r.requests.memoryMiB > r.memoryMiB)
    bad(`${section}.resources.requests.memoryMiB`, r.requests.memoryMiB, `cannot exceed the limit ${section}.resources.memoryMiB (${r.memoryMiB})`);
}

/** One of the allowed values. */
export function checkOneOf<T>(field: string, value: T, allowed: readonly T[], bad: Problem): void {
  if (!allowed.includes(value)) bad(field, value, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
}

/** A database, role or keyspace name the pipeline creates. */
export function checkIdentifier(field: string, value: string, bad: Problem): void {
  if (!/^[a-z_][a-z0-9_]{0,47}$/.test(value)) bad(field, value, 'must be a lowercase identifier (a-z, 0-9, _)');
}

/** A folder given relative to the repository, never leaving it. */
export function checkRepoFolder(field: string, value: string, bad: Problem): void {
  if (value === '' || path.isAbsolute(value) || value.split(/[\\/]/).includes('..'))
    bad(field, value, 'must be a folder inside the repository, given relative to it');
}

/** An image reference pinned to a version tag. */
export function checkImage(field: string, value: unknown, bad: Problem): void {
  if (typeof value !== 'string' || value.trim() === '') return bad(field, value, 'must name an image');
  const colon = value.lastIndexOf(':');
  const tag = colon > value.lastIndexOf('/') ? value.slice(colon + 1) : '';
  if (tag === '') bad(field, value, 'needs an explicit version tag (name:tag)');
  else if (tag === 'latest') bad(field, value, "must be pinned to a version, not 'latest'");
}

/** Settings every section's rules may depend on. */
export interface TopLevel {
  readonly imageMode: ImageMode;
}

/** Where component images come from. */
export type ImageMode = 'upstream' | 'local';
