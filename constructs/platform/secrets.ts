import { Construct } from 'constructs';
import { TerraformVariable } from 'cdktf';
import { Password } from '@cdktf/provider-random/lib/password';
import { Id } from '@cdktf/provider-random/lib/id';
import { SECRET_KINDS, SecretKind } from '../../config/facts';
import { SecretValue } from './spec';

/** Where the values of platform secrets come from. */
export type SecretSourceKind = 'generate' | 'variables';

/** A sensitive variable the operator (or `npm run up`) supplies as TF_VAR_<variable>. */
export interface SecretVariable {
  readonly variable: string;
  readonly kind: SecretKind;
  /** Characters of a password; absent for the other kinds. */
  readonly length?: number;
}

/** The variables secretValueTokens declares for this secret with secretSource 'variables'. */
export function secretVariables(secret: string, values: Readonly<Record<string, SecretValue>>): SecretVariable[] {
  return Object.entries(values).flatMap(([key, value]) => 'generate' in value
    ? [{ variable: secretVariableName(secret, key), kind: value.generate, ...(value.generate === 'password' ? { length: value.length ?? SECRET_KINDS.password.defaultLength } : {}) }]
    : []);
}

/** Terraform variable a secret key is read from with secretSource 'variables' (set it as TF_VAR_<name>). */
export function secretVariableName(secret: string, key: string): string {
  return `${secret}_${key}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/**
 * Resolves every key of a secret to a Terraform expression: a random provider result, or a
 * sensitive variable. The synthesized JSON holds only references, never a value.
 */
export function secretValueTokens(
  scope: Construct,
  secret: string,
  values: Readonly<Record<string, SecretValue>>,
  source: SecretSourceKind,
): Record<string, string> {
  const tokens: Record<string, string> = {};
  const valueOf = (key: string): string => {
    const token = tokens[key];
    if (token === undefined) throw new Error(`secret '${secret}': derived value refers to '${key}', which is not defined before it`);
    return token;
  };
  for (const [key, value] of Object.entries(values)) {
    const id = `${secret}-${key}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    if ('derive' in value) {
      tokens[key] = value.derive(valueOf);
    } else if (source === 'variables') {
      const variable = new TerraformVariable(scope, secretVariableName(secret, key), {
        type: 'string',
        sensitive: true,
        nullable: false,
        description: `${secret}.${key} (${value.generate})`,
      });
      // A stable name, so the operator can set TF_VAR_<name> without reading the synthesized JSON.
      variable.overrideLogicalId(secretVariableName(secret, key));
      tokens[key] = variable.stringValue;
    } else {
      const kind = SECRET_KINDS[value.generate];
      tokens[key] = kind.bytes === undefined
        ? new Password(scope, id, { length: value.length ?? kind.defaultLength!, special: false }).result
        // random_id's url-safe base64 drops the padding a Fernet key must carry: the kind's suffix restores it.
        : `${new Id(scope, id, { byteLength: kind.bytes }).b64Url}${kind.suffix ?? ''}`;
    }
  }
  return tokens;
}
