/* The pod sandbox's process for the lab's containerd: sleeps until told to stop and reaps any orphan it inherits.
 * Ours, written for the lab (no image can be pulled here); built static by tests/lab/upstream/build.py. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) { (void)sig; _exit(0); }

static void reap(int sig)
{
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

int main(void)
{
    struct sigaction on_stop, on_child;
    memset(&on_stop, 0, sizeof on_stop);
    on_stop.sa_handler = stop;
    sigaction(SIGINT, &on_stop, NULL);
    sigaction(SIGTERM, &on_stop, NULL);
    memset(&on_child, 0, sizeof on_child);
    on_child.sa_handler = reap;
    on_child.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &on_child, NULL);
    for (;;)
        pause();
    return 0;
}
