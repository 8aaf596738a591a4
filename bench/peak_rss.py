"""The peak resident set of this process, for the bench's Python children: VmHWM from
/proc/self/status, since ru_maxrss also counts the memory the parent had when it forked."""
import re
import resource


def peak_rss():
    """Peak resident set of this process in bytes."""
    try:
        with open("/proc/self/status") as f:
            return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1)) * 1024
    except (OSError, AttributeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
