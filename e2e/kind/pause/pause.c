/*
 * A minimal pod sandbox ("pause") process for the offline e2e node image.
 *
 * It holds the pod's namespaces open, reaps zombies (it is PID 1 of pods that share a
 * process namespace, so orphans are re-parented to it), and exits cleanly on SIGINT or
 * SIGTERM so that the runtime can stop the sandbox without waiting for a SIGKILL.
 * Built static so that it runs in a FROM-scratch image.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) { (void)sig; _exit(0); }

static void on_child(int sig) {
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0) {
	}
}

int main(int argc, char **argv) {
	struct sigaction sa;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		static const char msg[] = "kab-e2e pause\n";
		(void)!write(1, msg, sizeof msg - 1);
		return 0;
	}
	if (getpid() != 1) {
		static const char msg[] = "warning: pause should be the first process\n";
		(void)!write(2, msg, sizeof msg - 1);
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return 1;
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP;
	if (sigaction(SIGCHLD, &sa, NULL) < 0)
		return 2;

	for (;;)
		pause();
}
