//! How one `Store` method serves both backends. Each backend has modules of
//! the same names with functions of the same names (`sqlite::read::fcs`,
//! `postgres::read::fcs`) and a writer `Session` with the same methods, so a
//! method body is written once and expanded once per backend: `$db` names
//! the backend's module, `$s` its writer session, `$c` its reader connection.

/// Runs `$body` as a job of the backend's writer (group commit), isolated as
/// `$iso`, and awaits its result after COMMIT.
macro_rules! on_writer {
    ($store:expr, $iso:expr, |$s:ident| $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite { writer, .. } => writer.write($iso, move |$s| $body).await,
            $crate::Backend::Postgres(pg) => pg.writer.write($iso, move |$s| $body).await,
        }
    };
    ($store:expr, $iso:expr, |$s:ident, $db:ident| $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite { writer, .. } => {
                use $crate::sqlite as $db;
                writer.write($iso, move |$s| $body).await
            }
            $crate::Backend::Postgres(pg) => {
                use $crate::postgres as $db;
                pg.writer.write($iso, move |$s| $body).await
            }
        }
    };
}

/// As `on_writer!` for an order import: `$key` is the order's
/// `(channel, external_id)`, which lets the PostgreSQL writer look up a
/// whole batch's orders in one query.
macro_rules! on_writer_importing {
    ($store:expr, $iso:expr, $key:expr, |$s:ident| $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite { writer, .. } => writer.write($iso, move |$s| $body).await,
            $crate::Backend::Postgres(pg) => pg.writer.write_keyed($iso, Some($key), move |$s| $body).await,
        }
    };
}

/// Runs `$body` on one of the backend's reader connections.
macro_rules! on_reader {
    ($store:expr, |$c:ident, $db:ident| $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite { readers, .. } => {
                use $crate::sqlite as $db;
                readers.run(move |$c| $body).await
            }
            $crate::Backend::Postgres(pg) => {
                use $crate::postgres as $db;
                pg.readers.run(move |$c| $body).await
            }
        }
    };
}
