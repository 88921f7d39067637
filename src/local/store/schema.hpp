// The store's SQLite schema, versioned: `schema_version` holds one row with
// the version the file was last migrated to. Add a migration to kMigrations
// (never edit a released one) and the store upgrades older files on open.
#pragma once

#include <array>
#include <string_view>

namespace tempmail::local::detail {

// kMigrations[i] upgrades a database from version i to version i + 1.
inline constexpr std::array<std::string_view, 4> kMigrations{
    // v1: mailboxes, messages (with the raw RFC 5322 text), attachments, quota.
    R"sql(
CREATE TABLE mailboxes (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, even after a delete
  account     TEXT    NOT NULL,                   -- SHA-256 hex of the API key, never the key
  address     TEXT    NOT NULL UNIQUE,            -- lower case
  domain      TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,                   -- Unix seconds, UTC
  expire_at   INTEGER NOT NULL,
  token       TEXT    NOT NULL
);
CREATE TABLE messages (
  id          TEXT    PRIMARY KEY,                -- 46 x [A-Za-z0-9]
  seq         INTEGER NOT NULL UNIQUE,            -- commit order across the store
  mailbox     INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  from_name   TEXT    NOT NULL,
  from_email  TEXT    NOT NULL,
  to_address  TEXT    NOT NULL,
  subject     TEXT    NOT NULL,
  received_at INTEGER NOT NULL,
  seen        INTEGER NOT NULL DEFAULT 0,
  html        INTEGER NOT NULL,
  content     TEXT    NOT NULL,
  raw         BLOB    NOT NULL
);
CREATE INDEX messages_by_mailbox ON messages(mailbox, seq);
CREATE TABLE attachments (
  message_id   TEXT    NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  position     INTEGER NOT NULL,
  name         TEXT    NOT NULL,
  content_type TEXT    NOT NULL,
  data         BLOB    NOT NULL,
  PRIMARY KEY (message_id, position)
);
CREATE TABLE quota (
  account TEXT    NOT NULL,
  month   TEXT    NOT NULL,                       -- "YYYY-MM", UTC
  used    INTEGER NOT NULL,
  PRIMARY KEY (account, month)
);
)sql",
    // v2: a message is its raw RFC 5322 text plus what the text cannot say
    // (mailbox, recipient, time, seen); subject, sender, content and
    // attachments are parsed from the raw text when the store loads. The raw
    // text lives in the raw log's segment files (local/store/raw_log.hpp),
    // where `raw_segment`, `raw_offset`, `raw_length` point; `raw` holds it
    // instead for messages carried over from v1 (NULL otherwise).
    // Rationale: v1 wrote a message's body into SQLite twice (content and
    // raw) and its attachments a third time, and kept two indexes on random
    // keys; ingest of 50 KB messages spent most of its time writing them
    // (bench/RESULTS.md). `seq` is the rowid, so rows are appended in commit
    // order; `id` is unique because the store never hands out one that exists.
    R"sql(
CREATE TABLE messages_v2 (
  seq         INTEGER PRIMARY KEY,                -- commit order across the store
  id          TEXT    NOT NULL,                   -- 46 x [A-Za-z0-9]
  mailbox     INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  to_address  TEXT    NOT NULL,
  received_at INTEGER NOT NULL,                   -- Unix seconds, UTC
  seen        INTEGER NOT NULL DEFAULT 0,
  raw_segment INTEGER,                            -- NULL: the text is in `raw`
  raw_offset  INTEGER,
  raw_length  INTEGER,
  raw         BLOB
);
INSERT INTO messages_v2(seq, id, mailbox, to_address, received_at, seen, raw)
  SELECT seq, id, mailbox, to_address, received_at, seen, raw FROM messages;
DROP TABLE attachments;
DROP TABLE messages;
ALTER TABLE messages_v2 RENAME TO messages;
CREATE INDEX messages_by_mailbox ON messages(mailbox);
)sql",
    // v3: a delivery is acknowledged once its journal record is in the raw
    // log (local/store/journal.hpp); the rows follow in batches. The mark is
    // where the records not yet written as rows begin; no row: none wait
    // (a v2 raw log holds bare texts, all of them already rows). `next_seq`
    // is above every seq handed out, deleted messages' too, so that a
    // long-poll cursor never skips a message made after a restart.
    R"sql(
CREATE TABLE journal (
  mark_segment INTEGER NOT NULL,
  mark_offset  INTEGER NOT NULL,
  next_seq     INTEGER NOT NULL
);
)sql",
    // v4: the raw log's segment files this database knows (each is named here
    // before anything is written to it), and each message's checksum.
    // Rationale: a segment the database does not know is never a reason to
    // delete it: it is a journal of deliveries the database lost (an emptied
    // or deleted file, a lost WAL), rebuilt from its records on open. Only a
    // known segment no row refers to is deleted. `raw_checksum` is the XXH3-64
    // of the raw text (journal.hpp), checked when the text is read: bytes changed
    // on disk are never served as the message. `envelope`: what the SMTP
    // session said (journal.hpp's encoding). NULL: written before v4.
    // Upgrading a v2/v3 file names every segment then on disk (store.cpp).
    R"sql(
CREATE TABLE raw_segments (segment INTEGER PRIMARY KEY);
ALTER TABLE messages ADD COLUMN raw_checksum INTEGER;
ALTER TABLE messages ADD COLUMN envelope BLOB;
)sql",
};

inline constexpr int kSchemaVersion = static_cast<int>(kMigrations.size());

}  // namespace tempmail::local::detail
