// Persistence in one SQLite file: WAL journal, synchronous=FULL (a committed
// batch survives kill -9 and power loss), one table of objects plus a meta
// table holding the store revision, each batch in one transaction.
// The file is opened with an exclusive lock: one controller per file.
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

 private:
  explicit SqlitePersistence(std::string path) : path_(std::move(path)) {}
  Result<void> init();
  Result<void> exec(const char* sql, const char* what);
  Result<sqlite3_stmt*> prepare(const char* sql);
  Error error(const std::string& what) const;  // names path_ and SQLite's message

  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
  sqlite3_stmt* set_revision_ = nullptr;
};

}  // namespace corral::store
