import { Construct } from 'constructs';
import { TerraformVariable } from 'cdktf';
import { Password } from '@cdktf/provider-random/lib/password';
import { Id } from '@cdktf/provider-random/lib/id';
import { SecretValue } from './spec';

/** Where the values of platform secrets come from. */
export type SecretSourceKind = 'generate' | 'variables';

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
    } else if (value.generate === 'password') {
      tokens[key] = new Password(scope, id, { length: value.length ?? 32, special: false }).result;
    } else if (value.generate === 'fernet') {
      // random_id's url-safe base64 drops the padding a Fernet key must carry.
      tokens[key] = `${new Id(scope, id, { byteLength: 32 }).b64Url}=`;
    } else {
      tokens[key] = new Id(scope, id, { byteLength: 16 }).b64Url;
    }
  }
  return tokens;
}
