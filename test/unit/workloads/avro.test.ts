import { Type } from 'avsc';
import { decodeWith, frame, unframe, UserEncoder } from '../../../workloads/relay/avro';
import { userSchemaText } from '../../../workloads/relay/schema';
import { UserRecord } from '../../../workloads/shared/user';

const user: UserRecord & { seq: number } = {
  id: '7a0eed16-9430-4d68-901f-c0d4c1c3bf00', first_name: 'Jennie', last_name: 'Nichols', gender: 'female',
  address: '8929 Valwood Pkwy, Billings, Michigan, United States', post_code: '63104', email: 'jennie.nichols@example.com',
  username: 'yellowpeacock117', dob: '1992-03-08T15:13:16.688Z', registered_date: '2007-07-09T05:51:59.390Z',
  phone: '(272) 790-0888', picture: 'https://randomuser.me/api/portraits/med/women/75.jpg', nat: 'US',
  ingested_at: '2026-01-01T00:00:00.000Z', seq: 42,
};

describe('relay: Avro and the Confluent wire format', () => {
  test('the schema is a record rtdatastream.User with the pipeline fields', () => {
    const schema = JSON.parse(userSchemaText());
    expect(schema.namespace + '.' + schema.name).toBe('rtdatastream.User');
    expect(schema.fields.map((f: { name: string }) => f.name)).toEqual([
      'id', 'first_name', 'last_name', 'gender', 'address', 'post_code', 'email', 'username', 'dob', 'registered_date', 'phone', 'picture', 'nat', 'ingested_at', 'landing_seq',
    ]);
  });

  test('a user round-trips: magic 0, 4-byte big-endian schema id, Avro body', () => {
    const msg = new UserEncoder(258, userSchemaText()).encode(user);
    expect(msg[0]).toBe(0);
    expect(msg.readUInt32BE(1)).toBe(258);
    const decoded = decodeWith(userSchemaText(), msg);
    expect(decoded).toEqual({ ok: true, value: expect.objectContaining({
      id: user.id, first_name: 'Jennie', post_code: '63104', landing_seq: 42,
      dob: Date.parse(user.dob), registered_date: Date.parse(user.registered_date), ingested_at: Date.parse(user.ingested_at),
    }) });
  });

  test('millisecond precision of timestamps survives', () => {
    const decoded = decodeWith(userSchemaText(), new UserEncoder(1, userSchemaText()).encode(user));
    expect(decoded.ok && new Date(decoded.value.dob).toISOString()).toBe(user.dob);
  });

  test('framing errors name what is wrong', () => {
    expect(unframe(Buffer.from([0, 0, 1]))).toEqual({ ok: false, error: 'message of 3 bytes is shorter than the 5-byte Confluent header' });
    expect(unframe(Buffer.from([1, 0, 0, 0, 1, 2]))).toEqual({ ok: false, error: 'magic byte is 1, expected 0 (Confluent wire format)' });
    expect(decodeWith(userSchemaText(), frame(1, Buffer.from([0xff])))).toEqual({ ok: false, error: expect.stringContaining('does not decode with schema 1') });
  });

  test('a row with a missing field is refused by the encoder, not sent half-empty', () => {
    const { email: _drop, ...broken } = user;
    expect(() => new UserEncoder(1, userSchemaText()).encode(broken as never)).toThrow();
  });

  test('a batch encoded at once gives the same bytes as one message at a time, across buffer boundaries', () => {
    const encoder = new UserEncoder(7, userSchemaText());
    // 5,000 users of ~1 KB each fill several of encodeAll's 1 MiB buffers.
    const users = Array.from({ length: 5000 }, (_, i) => ({ ...user, address: `${i} ${'x'.repeat(700 + (i % 300))}`, seq: i + 1 }));
    const batch = encoder.encodeAll(users);
    expect(batch).toHaveLength(users.length);
    users.forEach((u, i) => expect(batch[i].equals(encoder.encode(u))).toBe(true));
    const huge = { ...user, address: 'y'.repeat(3 << 20) };
    expect(encoder.encodeAll([user, huge, user]).map((m) => m.length)).toEqual([encoder.encode(user).length, encoder.encode(huge).length, encoder.encode(user).length]);
  });

  test('a batch with a row missing a field is refused as a whole', () => {
    const { email: _drop, ...broken } = user;
    expect(() => new UserEncoder(1, userSchemaText()).encodeAll([user, broken as never])).toThrow();
  });

  test('a reader with an added optional field (BACKWARD-compatible change) still reads old messages', () => {
    const next = JSON.parse(userSchemaText());
    next.fields.push({ name: 'age', type: ['null', 'int'], default: null });
    const reader = Type.forSchema(next);
    const writer = Type.forSchema(JSON.parse(userSchemaText()));
    const body = unframe(new UserEncoder(1, userSchemaText()).encode(user));
    if (!body.ok) throw new Error(body.error);
    const resolved = reader.fromBuffer(body.value.body, reader.createResolver(writer));
    expect(resolved).toMatchObject({ id: user.id, age: null });
  });
});
