/* SPDX-License-Identifier: MIT */
/* PostUp / PreDown commands and resolvectl (hooks.h). */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/hooks.h"
#include "net/netaddr.h"

extern char **environ;

bool jv_hook_expand(const char *cmd, const char *ifname, char *out, size_t n)
{
	size_t o = 0;

	for (const char *p = cmd; *p; p++) {
		const char *add = NULL;
		char one[2] = { *p, '\0' };

		if (p[0] == '%' && p[1] == 'i') {
			add = ifname;
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			add = "%";
			p++;
		} else {
			add = one;
		}
		size_t k = strlen(add);
		if (o + k >= n)
			return false;
		memcpy(out + o, add, k);
		o += k;
	}
	if (o >= n)
		return false;
	out[o] = '\0';
	return true;
}

/* Milliseconds of CLOCK_MONOTONIC (the child's deadline). */
static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for pid until deadline (ms, CLOCK_MONOTONIC): its wait status,
 * or -1 when the deadline passed first (the child still runs). */
static int wait_until(pid_t pid, long long deadline)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			st = -2;
			break;
		}
		long long left = deadline - mono_ms();
		if (left <= 0) {
			st = -1;
			break;
		}
		if (pfd >= 0) {
			struct pollfd p = { .fd = pfd, .events = POLLIN };

			(void)poll(&p, 1, (int)(left > 1000 ? 1000 : left));
		} else {
			/* no pidfd (Linux < 5.3): a short nap per check */
			struct timespec ts = { 0, 10 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	if (pfd >= 0)
		close(pfd);
	return st;
}

int jv_hook_spawn(char *const argv[], int timeout_ms, char *why, size_t n)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	pid_t pid;
	int rc, st;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);	/* the daemon ignores it */
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGCHLD);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawnattr_init(&at);
	/* Its own process group, so a timeout ends the whole pipeline. */
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
				 POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc) {
		snprintf(why, n, "cannot run %s: %s", argv[0], strerror(rc));
		return rc == ENOENT ? JV_ERR_NOTFOUND : JV_ERR_IO;
	}
	st = wait_until(pid, mono_ms() + timeout_ms);
	if (st == -1) {
		kill(-pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		snprintf(why, n, "timed out after %d s (killed)",
			 timeout_ms / 1000);
		return JV_ERR_LIMIT;
	}
	if (st == -2) {
		snprintf(why, n, "waitpid: %s", strerror(errno));
		return JV_ERR_IO;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		snprintf(why, n, "exit status %d", WEXITSTATUS(st));
	else
		snprintf(why, n, "killed by signal %d", WTERMSIG(st));
	return JV_ERR_IO;
}

static int run_shell(const char *cmd, const char *ifname, char *why, size_t n)
{
	char line[JV_CFG_HOOK_LEN + 16 * IF_NAMESIZE];
	char *argv[] = { "/bin/sh", "-c", line, NULL };

	if (!jv_hook_expand(cmd, ifname, line, sizeof line)) {
		snprintf(why, n, "too long once %%i is replaced");
		return JV_ERR_LIMIT;
	}
	return jv_hook_spawn(argv, JV_HOOK_TIMEOUT_MS, why, n);
}

int jv_hooks_post_up(const struct jv_config *cfg, const char *ifname,
		     char *why, size_t n)
{
	char how[128];
	int rc;

	for (unsigned i = 0; i < cfg->npostup; i++) {
		rc = run_shell(cfg->postup[i], ifname, how, sizeof how);
		if (rc) {
			snprintf(why, n, "PostUp `%s`: %s", cfg->postup[i], how);
			return rc;
		}
	}
	return 0;
}

void jv_hooks_pre_down(const struct jv_config *cfg, const char *ifname,
		       void (*log)(void *, const char *), void *ud)
{
	char how[128], line[JV_CFG_HOOK_LEN + 160];

	for (unsigned i = 0; i < cfg->npredown; i++)
		if (run_shell(cfg->predown[i], ifname, how, sizeof how)) {
			snprintf(line, sizeof line,
				 "PreDown `%s`: %s (teardown continues)",
				 cfg->predown[i], how);
			log(ud, line);
		}
}

/* ---- DNS through resolvectl ------------------------------------------------ */

enum { DNS_TIMEOUT_MS = 10000 };

bool jv_dns_apply(const struct jv_config *cfg, const char *ifname,
		  void (*log)(void *, const char *), void *ud)
{
	char srv[JV_CFG_DNS_MAX][JV_NETADDR_STR_MAX];
	char *argv[4 + JV_CFG_DNS_MAX + JV_CFG_DOMAINS_MAX];
	char how[128], line[300], ifn[IF_NAMESIZE];
	char verb_dns[] = "dns", verb_dom[] = "domain", prog[] = "resolvectl";
	int rc, k = 0;

	if (!cfg->ndns && !cfg->ndomains)
		return false;
	snprintf(ifn, sizeof ifn, "%s", ifname);
	argv[k++] = prog;
	argv[k++] = verb_dns;
	argv[k++] = ifn;
	for (unsigned i = 0; i < cfg->ndns; i++) {
		struct jv_addr a = cfg->dns[i];

		a.port = 0;
		(void)jv_netaddr_str(&a, srv[i]);
		argv[k++] = srv[i];
	}
	argv[k] = NULL;
	rc = jv_hook_spawn(argv, DNS_TIMEOUT_MS, how, sizeof how);
	if (!rc && cfg->ndomains) {
		k = 2;
		argv[1] = verb_dom;
		for (unsigned i = 0; i < cfg->ndomains; i++)
			argv[++k] = (char *)cfg->domains[i];
		argv[++k] = NULL;
		rc = jv_hook_spawn(argv, DNS_TIMEOUT_MS, how, sizeof how);
		if (rc)
			jv_dns_revert(ifname, log, ud);
	}
	if (rc) {
		snprintf(line, sizeof line,
			 "DNS not applied: resolvectl %s (%s); resolv.conf and systemd-resolved are left as they are",
			 rc == JV_ERR_NOTFOUND ? "is not installed" :
			 "failed: is systemd-resolved running?", how);
		log(ud, line);
		return false;
	}
	return true;
}

void jv_dns_revert(const char *ifname, void (*log)(void *, const char *),
		   void *ud)
{
	char ifn[IF_NAMESIZE], how[128], line[200];
	char prog[] = "resolvectl", verb[] = "revert";
	char *argv[] = { prog, verb, ifn, NULL };

	snprintf(ifn, sizeof ifn, "%s", ifname);
	if (jv_hook_spawn(argv, DNS_TIMEOUT_MS, how, sizeof how)) {
		snprintf(line, sizeof line, "resolvectl revert %s: %s", ifname,
			 how);
		log(ud, line);
	}
}
