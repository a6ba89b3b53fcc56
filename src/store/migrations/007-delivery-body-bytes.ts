// A delivery's body as raw bytes on both engines. PostgreSQL kept it as base64 text (`body` is a text column), which
// made each stored body a third larger, cost the receiver an encoding and the server a larger row on every insert,
// and came back only through a decoding. A new column rather than a changed one: rows already stored are not
// rewritten (a long ledger would hold the receiver's start for as long as that took), and `body` stays readable
// for them. SQLite already kept new bodies raw in `body` (a BLOB whatever the declared type); its new rows use this
// column too, so both engines read and write alike.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (t) => {
    t.binary('body_bytes').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (t) => {
    t.dropColumn('body_bytes');
  });
}
