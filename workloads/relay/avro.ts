import { Type } from 'avsc';
import { err, ok, Result } from '../shared/result';
import { UserRecord } from '../shared/user';

/** The subject of a topic's value schema (TopicNameStrategy). */
export const valueSubject = (topic: string): string => `${topic}-value`;


/** Fields that are ISO-8601 instants in the record and timestamp-millis in the Avro message. */
type InstantField = 'dob' | 'registered_date' | 'ingested_at';

/** The Avro message as written: the user record with timestamps as epoch milliseconds. */
export type UserMessage = Omit<UserRecord, InstantField> & { readonly [K in InstantField]: number } & {
  readonly landing_seq: number;
};

export interface LandedUser extends UserRecord {
  readonly seq: number;
}

export function toMessage(u: LandedUser): UserMessage {
  return {
    id: u.id,
    first_name: u.first_name,
    last_name: u.last_name,
    gender: u.gender,
    address: u.address,
    post_code: u.post_code,
    email: u.email,
    username: u.username,
    dob: Date.parse(u.dob),
    registered_date: Date.parse(u.registered_date),
    phone: u.phone,
    picture: u.picture,
    nat: u.nat,
    ingested_at: Date.parse(u.ingested_at),
    landing_seq: u.seq,
  };
}

/** Confluent wire format: magic byte 0, big-endian 4-byte schema id, Avro binary body. */
export function frame(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, 5);
  return out;
}

export function unframe(message: Buffer): Result<{ schemaId: number; body: Buffer }> {
  if (message.length < 5) return err(`message of ${message.length} bytes is shorter than the 5-byte Confluent header`);
  if (message.readUInt8(0) !== 0) return err(`magic byte is ${message.readUInt8(0)}, expected 0 (Confluent wire format)`);
  return ok({ schemaId: message.readUInt32BE(1), body: message.subarray(5) });
}

/** Bytes per buffer that encodeAll fills with messages (a 2,000-row batch of ~250-byte messages takes one). */
const ARENA_BYTES = 1 << 20;

/** Encodes users with one schema id; the type checks every field, so a bad row fails loudly. */
export class UserEncoder {
  readonly type: Type;
  /** `schemaText`: the users schema (userSchemaText() in ./schema reads the bundled file; this module does no I/O). */
  constructor(readonly schemaId: number, schemaText: string) {
    this.type = Type.forSchema(JSON.parse(schemaText));
  }

  encode(u: LandedUser): Buffer {
    return frame(this.schemaId, this.type.toBuffer(toMessage(u)));
  }

  /**
   * Framed messages for a whole batch, written one after the other into a few large buffers and
   * handed out as views: one allocation per ~ARENA bytes instead of two per message, so a batch
   * leaves little behind for the garbage collector.
   */
  encodeAll(users: readonly LandedUser[]): Buffer[] {
    const out: Buffer[] = new Array(users.length);
    let arena = Buffer.allocUnsafe(ARENA_BYTES);
    let pos = 0;
    for (let i = 0; i < users.length; i++) {
      const message = toMessage(users[i]);
      for (;;) {
        const end = arena.length - pos > 5 ? this.type.encode(message, arena, pos + 5) : -1;
        if (end >= 0) {
          arena.writeUInt8(0, pos);
          arena.writeUInt32BE(this.schemaId, pos + 1);
          out[i] = arena.subarray(pos, end);
          pos = end;
          break;
        }
        // Full (encode answers minus the bytes missing): the views so far keep the old buffer
        // alive; go on in a new one big enough for this message.
        arena = Buffer.allocUnsafe(Math.max(ARENA_BYTES, arena.length - pos - end));
        pos = 0;
      }
    }
    return out;
  }
}

/** Decodes a framed message with a schema looked up by id (the reader side, for tests and tools). */
export function decodeWith(schemaText: string, message: Buffer): Result<UserMessage & Record<string, unknown>> {
  const f = unframe(message);
  if (!f.ok) return f;
  try {
    return ok(Type.forSchema(JSON.parse(schemaText)).fromBuffer(f.value.body));
  } catch (e) {
    return err(`Avro body does not decode with schema ${f.value.schemaId}: ${(e as Error).message}`);
  }
}
