// Persistence in one SQLite file: WAL journal, synchronous=FULL (a committed
// batch survives kill -9 and power loss), one table of objects plus a meta
// table holding the store revision, each batch in one transaction.
// The file is opened with an exclusive lock: one controller per file.
//
// Compact under churn: the file uses incremental auto-vacuum (a file made
// before is converted once, by a VACUUM at open; without the free space for
// that copy it stays as it was, working, and the next open tries again), and every
// kReclaimEvery commits the pages freed by deletes are handed back to the
// file system when they are more than a quarter of it; the WAL is truncated
// to 64 MiB after each checkpoint (journal_size_limit).
#pragma once

#include <memory>
#include <string>

#include "controller/store/persistence.h"

struct sqlite3;
struct sqlite3_stmt;

namespace corral::store {

class SqlitePersistence final : public Persistence {
 public:
  // Creates the file and schema if missing.
  // Errors: Unavailable "sqlite store <path>: <what>: <SQLite's message>".
  static Result<std::unique_ptr<SqlitePersistence>> open(const std::string& path);
  ~SqlitePersistence() override;
  SqlitePersistence(const SqlitePersistence&) = delete;
  SqlitePersistence& operator=(const SqlitePersistence&) = delete;

  Result<Loaded> load() override;
  Result<void> commit(const Batch& batch) override;

  // The database file's pages, in bytes: in use, and free (left by deletes,
  // not yet reclaimed).
  struct FileStats {
    int64_t bytes = 0;
    int64_t free_bytes = 0;
  };
  Result<FileStats> file_stats();
  // Hands free pages back to the file system when they are over a quarter of
  // the file (at most kReclaimPages a call). commit() calls it every
  // kReclaimEvery commits; a failure is logged, not fatal (the next commit
  // meets any real trouble itself).
  void reclaim();
  static constexpr int kReclaimEvery = 256;
  static constexpr int64_t kReclaimPages = 4096;

 private:
  explicit SqlitePersistence(std::string path) : path_(std::move(path)) {}
  Result<void> init();
  Result<void> exec(const char* sql, const char* what);
  Result<sqlite3_stmt*> prepare(const char* sql);
  Result<int64_t> pragma_int(const char* pragma);
  Error error(const std::string& what) const;  // names path_ and SQLite's message

  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
  sqlite3_stmt* set_revision_ = nullptr;
  int commits_since_reclaim_ = 0;
};

}  // namespace corral::store
