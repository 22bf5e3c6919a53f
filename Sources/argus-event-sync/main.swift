import Foundation
import SyncService

// Everything lives in the SyncService library so tests can drive it; this is only the entry point.
signal(SIGPIPE, SIG_IGN)  // a closed stderr or socket must produce EPIPE, not kill the daemon
exit(await CLI.run(CommandLine.arguments))
