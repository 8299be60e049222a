import { readFileSync } from 'node:fs';
import { assetPath } from '../shared/assets';

/** The users schema shipped beside the code (workloads/schema/user.avsc). */
export function userSchemaText(): string {
  return readFileSync(assetPath('schema/user.avsc'), 'utf8');
}
