import Foundation
import SyncService

// Everything lives in the SyncService library so tests can drive it; this is only the entry point.
signal(SIGPIPE, SIG_IGN)  // a closed stderr or socket must produce EPIPE, not kill the daemon
// A parent may hand us a blocked signal mask (children of Swift concurrency or dispatch threads
// inherit one); unblock the signals we stop on, before any thread exists to inherit the mask.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
for number in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&stopSignals, number) }
pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
exit(await CLI.run(CommandLine.arguments))
