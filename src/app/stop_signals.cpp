#include "app/stop_signals.hpp"

#include <signal.h>

#include <atomic>

namespace fastgpu::app {
namespace {

std::atomic<int> g_requests{0};
static_assert(std::atomic<int>::is_always_lock_free, "the handler may only touch lock-free atomics");

extern "C" void on_stop_signal(int) { g_requests.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // blocking MPI and HDF5 calls go on; the loop polls the count
  for (int sig : {SIGTERM, SIGINT, SIGUSR1}) sigaction(sig, &action, nullptr);
}

int stop_requests() { return g_requests.load(std::memory_order_relaxed); }

void reset_stop_requests() { g_requests.store(0, std::memory_order_relaxed); }

}  // namespace fastgpu::app
