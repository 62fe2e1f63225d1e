/*
 * absl_release_mode.cc — the one C++ file of libs/rpc, because abseil offers this switch
 * only in C++: it turns off absl::Mutex deadlock detection for the process.
 *
 * Debian builds abseil without NDEBUG, which leaves deadlock detection on in "abort"
 * mode (upstream release builds have it off). Then every absl::Mutex lock inside grpc
 * core also updates a process-wide lock-order graph under a global lock (7 % of the
 * server's user-space instructions per unary call, bench/rpc), and a lock-order cycle
 * the detector believes it saw inside grpc would abort the service.
 */
#include <absl/synchronization/mutex.h>

extern "C" void rpc_absl_release_mode(void);

extern "C" void rpc_absl_release_mode(void)
{
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}
