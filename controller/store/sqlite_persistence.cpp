#include "controller/store/sqlite_persistence.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "base/log.h"
#include "controller/store/cached_store.h"

namespace corral::store {

namespace {

// Resets a statement on scope exit so that it never holds a read snapshot or
// bound text past its use.
struct StmtReset {
  sqlite3_stmt* stmt;
  ~StmtReset() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

}  // namespace

Result<std::unique_ptr<SqlitePersistence>> SqlitePersistence::open(const std::string& path) {
  std::unique_ptr<SqlitePersistence> p(new SqlitePersistence(path));
  if (auto ok = p->init(); !ok) return ok.take_error();
  return p;
}

SqlitePersistence::~SqlitePersistence() {
  for (sqlite3_stmt* s : {put_, delete_, set_revision_}) sqlite3_finalize(s);
  if (db_) sqlite3_close(db_);
}

Error SqlitePersistence::error(const std::string& what) const {
  std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
  // SQLite's message for a failed write or sync is generic ("disk I/O
  // error"); the OS's reason says which. Only for the codes that set it, so
  // that a stale errno never decorates another error.
  if (db_) {
    int primary = sqlite3_extended_errcode(db_) & 0xff;
    int sys = sqlite3_system_errno(db_);
    if (sys != 0 &&
        (primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN)) {
      msg += std::string(" (") + std::strerror(sys) + ")";
    }
  }
  return make_error(ErrorCode::kUnavailable, "sqlite store " + path_ + ": " + what + ": " + msg);
}

Result<void> SqlitePersistence::exec(const char* sql, const char* what) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return error(what);
  return Ok{};
}

Result<sqlite3_stmt*> SqlitePersistence::prepare(const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    return error("prepare");
  }
  return stmt;
}

Result<void> SqlitePersistence::init() {
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    return error("open");
  }
  sqlite3_extended_result_codes(db_, 1);
  // SQLite opens a write-protected file read-only without a word; the store
  // would then fail at its first write. Say so at open instead.
  if (sqlite3_db_readonly(db_, "main") == 1) {
    return make_error(ErrorCode::kUnavailable,
                      "sqlite store " + path_ + ": open: the file is read-only");
  }
  // EXCLUSIVE: a second controller on the same file fails at open ("database
  // is locked") instead of silently diverging. FULL: the WAL is synced at
  // every commit, so an acknowledged write survives kill -9 and power loss.
  // auto_vacuum=INCREMENTAL takes effect on a new file (before its first
  // table); journal_size_limit truncates the WAL after checkpoints.
  for (const char* pragma :
       {"PRAGMA locking_mode=EXCLUSIVE", "PRAGMA auto_vacuum=INCREMENTAL", "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL", "PRAGMA journal_size_limit=67108864"}) {
    if (auto ok = exec(pragma, pragma); !ok) return ok;
  }
  if (auto ok =
          exec("CREATE TABLE IF NOT EXISTS objects("
               "kind TEXT NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL, "
               "json TEXT NOT NULL, PRIMARY KEY(kind, name)) WITHOUT ROWID;"
               "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
               "INSERT OR IGNORE INTO meta(key, value) VALUES('revision', 0);",
               "create schema");
      !ok) {
    return ok;
  }
  // A file made before incremental auto-vacuum: converted once (a full VACUUM).
  auto vacuum_mode = pragma_int("PRAGMA auto_vacuum");
  if (!vacuum_mode) return vacuum_mode.take_error();
  if (*vacuum_mode != 2) {
    // A full copy of the file: it needs that much free space. Without it the
    // store still works, only without reclaiming (incremental_vacuum is then
    // a no-op); the next start tries again.
    if (auto ok = exec("VACUUM", "vacuum (converting to incremental auto-vacuum)"); !ok) {
      logger("store")->warn("{}; the file keeps its free pages until a start that can convert it",
                            ok.error().message);
    } else {
      logger("store")->info("sqlite store {}: converted to incremental auto-vacuum", path_);
    }
  }
  auto put = prepare("INSERT OR REPLACE INTO objects(kind, name, revision, json) VALUES(?,?,?,?)");
  if (!put.ok()) return put.take_error();
  put_ = *put;
  auto del = prepare("DELETE FROM objects WHERE kind = ? AND name = ?");
  if (!del.ok()) return del.take_error();
  delete_ = *del;
  auto rev = prepare("UPDATE meta SET value = ? WHERE key = 'revision'");
  if (!rev.ok()) return rev.take_error();
  set_revision_ = *rev;
  return Ok{};
}

Result<Loaded> SqlitePersistence::load() {
  Loaded out;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE key = 'revision'", -1, &stmt,
                         nullptr) != SQLITE_OK) {
    return error("load");
  }
  if (sqlite3_step(stmt) == SQLITE_ROW) out.revision = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  if (sqlite3_prepare_v2(db_, "SELECT kind, name, revision, json FROM objects", -1, &stmt,
                         nullptr) != SQLITE_OK) {
    return error("load");
  }
  auto text = [&](int col) {
    const unsigned char* t = sqlite3_column_text(stmt, col);
    return std::string(t ? reinterpret_cast<const char*>(t) : "",
                       static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
  };
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    out.objects.push_back({text(0), text(1), sqlite3_column_int64(stmt, 2), text(3)});
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return error("load");
  return out;
}

Result<void> SqlitePersistence::commit(const Batch& batch) {
  if (auto ok = exec("BEGIN IMMEDIATE", "begin"); !ok) return ok;
  auto rollback = [&](const char* what) {
    Error e = error(what);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return e;
  };
  for (const Mutation& m : batch.mutations) {
    const Record& r = *m.record;
    sqlite3_stmt* stmt = m.deleted ? delete_ : put_;
    StmtReset reset{stmt};
    sqlite3_bind_text(stmt, 1, r.kind.data(), static_cast<int>(r.kind.size()), SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, r.name.data(), static_cast<int>(r.name.size()), SQLITE_STATIC);
    if (!m.deleted) {
      sqlite3_bind_int64(stmt, 3, r.revision);
      sqlite3_bind_text(stmt, 4, r.json.data(), static_cast<int>(r.json.size()), SQLITE_STATIC);
    }
    if (sqlite3_step(stmt) != SQLITE_DONE) return rollback(m.deleted ? "delete" : "write");
  }
  {
    StmtReset reset{set_revision_};
    sqlite3_bind_int64(set_revision_, 1, batch.revision);
    if (sqlite3_step(set_revision_) != SQLITE_DONE) return rollback("write revision");
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
    return rollback("commit");
  if (++commits_since_reclaim_ >= kReclaimEvery) {
    commits_since_reclaim_ = 0;
    reclaim();
  }
  return Ok{};
}

Result<int64_t> SqlitePersistence::pragma_int(const char* pragma) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, pragma, -1, &stmt, nullptr) != SQLITE_OK) return error(pragma);
  int64_t value = 0;
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error(pragma);
  return value;
}

Result<SqlitePersistence::FileStats> SqlitePersistence::file_stats() {
  auto pages = pragma_int("PRAGMA page_count");
  if (!pages) return pages.take_error();
  auto free_pages = pragma_int("PRAGMA freelist_count");
  if (!free_pages) return free_pages.take_error();
  auto page_size = pragma_int("PRAGMA page_size");
  if (!page_size) return page_size.take_error();
  return FileStats{*pages * *page_size, *free_pages * *page_size};
}

void SqlitePersistence::reclaim() {
  auto pages = pragma_int("PRAGMA page_count");
  auto free_pages = pragma_int("PRAGMA freelist_count");
  if (!pages || !free_pages) return;
  if (*free_pages * 4 <= *pages) return;
  const std::string sql = "PRAGMA incremental_vacuum(" + std::to_string(std::min(*free_pages, kReclaimPages)) + ")";
  if (auto ok = exec(sql.c_str(), "incremental vacuum"); !ok)
    logger("store")->warn("{}", ok.error().message);
}

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, const Clock& clock,
                                                 StoreOptions options) {
  auto p = SqlitePersistence::open(path);
  if (!p.ok()) return p.take_error();
  return open_cached_store(std::move(p).value(), clock, options);
}

}  // namespace corral::store
