/** The pipeline's user record: one landing row, one Avro message, one Cassandra row. */
export interface UserRecord {
  /** login.uuid from the source. */
  readonly id: string;
  readonly first_name: string;
  readonly last_name: string;
  readonly gender: string;
  /** `${street.number} ${street.name}, ${city}, ${state}, ${country}` as in the seed project. */
  readonly address: string;
  /** Always a string, whatever type the source sent. */
  readonly post_code: string;
  readonly email: string;
  readonly username: string;
  /** ISO-8601 instant. */
  readonly dob: string;
  /** ISO-8601 instant. */
  readonly registered_date: string;
  readonly phone: string;
  /** The medium picture URL. */
  readonly picture: string;
  readonly nat: string;
  /** ISO-8601 instant when ingest normalized it. */
  readonly ingested_at: string;
}

/** Column order shared by the landing table writer and reader. */
export const USER_COLUMNS = [
  'id', 'first_name', 'last_name', 'gender', 'address', 'post_code', 'email', 'username',
  'dob', 'registered_date', 'phone', 'picture', 'nat', 'ingested_at',
] as const satisfies readonly (keyof UserRecord)[];
