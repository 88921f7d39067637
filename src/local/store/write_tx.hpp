// Store::WriteTx, the store's one kind of write transaction (store.hpp).
#pragma once

#include "local/store/sqlite.hpp"
#include "local/store/store.hpp"

namespace tempmail::local::detail {

// A transaction under write_mu_ that first writes the rows of acknowledged
// deliveries not yet in SQLite, so that whatever it changes (a deleted
// message, a moved mailbox, a seen flag) finds them; they count as written
// only once it commits.
class Store::WriteTx {
 public:
  explicit WriteTx(Store& store)
      : store_(store), tx_(*store.db_), applied_(store.apply_unapplied_locked()) {}
  void commit() {
    tx_.commit();
    store_.forget_applied(applied_);
  }

 private:
  Store& store_;
  Transaction tx_;
  std::size_t applied_;
};

}  // namespace tempmail::local::detail
