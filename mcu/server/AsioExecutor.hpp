#pragma once
// core::Executor and core::Timers bound to one asio strand: the core's serial executor.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <map>
#include <memory>

#include "mcu/core/Executor.hpp"

namespace mcu::server {

class AsioExecutor : public core::Executor, public core::Timers {
 public:
  explicit AsioExecutor(boost::asio::io_context& io) : strand_(boost::asio::make_strand(io)) {}

  void post(std::function<void()> fn) override { boost::asio::post(strand_, std::move(fn)); }

  // Timers are only touched on the strand (the core calls schedule/cancel from it).
  core::TimerId schedule(std::chrono::milliseconds delay, std::function<void()> fn) override {
    const core::TimerId id = next_++;
    auto timer = std::make_shared<boost::asio::steady_timer>(strand_, delay);
    timers_[id] = timer;
    timer->async_wait([this, id, timer, fn = std::move(fn)](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled
      timers_.erase(id);
      fn();
    });
    return id;
  }

  void cancel(core::TimerId id) override {
    if (auto it = timers_.find(id); it != timers_.end()) {
      it->second->cancel();
      timers_.erase(it);
    }
  }

 private:
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::map<core::TimerId, std::shared_ptr<boost::asio::steady_timer>> timers_;
  core::TimerId next_ = 1;
};

}  // namespace mcu::server
