#ifndef ARGUS_CSQLITE_SHIM_H
#define ARGUS_CSQLITE_SHIM_H
#include <sqlite3.h>

/// sqlite3_config() is variadic, which Swift cannot call; these wrap the calls SQLiteKit makes.
/// Each must run before the first connection is opened (before sqlite3_initialize()).

/// Turns off SQLite's memory statistics, which take a global mutex around every allocation
/// (https://sqlite.org/c3ref/c_config_covering_index_scan.html#sqliteconfigmemstatus).
static inline int argus_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
#endif
