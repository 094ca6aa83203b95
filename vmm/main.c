/* main.c: the cloak command line: subcommands, and `cloak run` from config to exit status. */
#include "bench.h"
#include "cloak.h"
#include "config.h"
#include "cvm.h"
#include "devices.h"
#include "launch.h"
#include "lazylib.h"
#include "plan.h"
#include "sandbox.h"
#include "sev/sev.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cloak COMMAND [OPTIONS]\n"
		"\n"
		"cloak is a micro-VMM for confidential guests on KVM.\n"
		"\n"
		"commands:\n"
		"  run [OPTIONS]   boot a guest (with no options: the built-in demo guest)\n"
		"  bench [OPTIONS] boot one guest many times under several variants; figures, CSV, JSON, plots\n"
		"  host-check      can this host launch AMD SEV guests, and if not, what to change\n"
		"  sev-export      write the SEV platform's PDH certificate for the guest owner\n"
		"  config print [RUN OPTIONS]\n"
		"                  print the effective configuration of `cloak run` with those options\n"
		"                  (--config FILE and the options that override it) as JSON\n"
		"  help            this text; `cloak run --help` describes the options of run\n"
		"  version         print cloak's version\n"
		"\n"
		"With no command at all, cloak runs the demo guest.\n");
}

struct signal_waiter {
	struct machine *m;
	sigset_t set;
	atomic_bool done;  /* set by cmd_run before the SIGUSR2 that ends the thread */
};

/*
 * SIGINT stops the VM; SIGTERM first presses the guest's power button and
 * gives it --shutdown-timeout seconds to power off (README "Exit status"); a
 * second SIGTERM or a SIGINT stops it at once. Handled on a thread of their
 * own, which ends only on the SIGUSR2 cmd_run sends once `done` is set: a
 * SIGUSR2 from anyone else is ignored, or SIGINT and SIGTERM would go unheard
 * after it.
 */
static void *signal_thread(void *opaque)
{
	struct signal_waiter *w = opaque;
	unsigned grace = w->m->cfg->shutdown_timeout;
	struct timespec deadline = { 0 };
	bool pressed = false;
	int sig;

	(void)sandbox_thread_enter(SANDBOX_SIGNAL);
	for (;;) {
		if (pressed) {
			struct timespec now, left;

			clock_gettime(CLOCK_MONOTONIC, &now);
			left.tv_sec = deadline.tv_sec - now.tv_sec;
			left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
			if (left.tv_nsec < 0) {
				left.tv_sec--;
				left.tv_nsec += 1000000000L;
			}
			sig = left.tv_sec < 0 ? -1 : sigtimedwait(&w->set, NULL, &left);
			if (sig < 0 && (left.tv_sec < 0 || errno == EAGAIN)) {
				pressed = false;
				machine_request_stop(w->m, CLOAK_EXIT_SIGNAL, "cloak received SIGTERM and the guest did "
						     "not power off within %u s (--shutdown-timeout); stopped it", grace);
				continue;
			}
			if (sig < 0)
				continue;
		} else if (sigwait(&w->set, &sig) != 0) {
			continue;
		}
		if (sig == SIGUSR2) {
			if (atomic_load(&w->done))
				return NULL;
			continue;
		}
		if (sig == SIGTERM && grace && !pressed && power_button_press()) {
			fprintf(stderr, "cloak: SIGTERM: pressed the guest's power button; it has %u s to power off\n",
				grace);
			clock_gettime(CLOCK_MONOTONIC, &deadline);
			deadline.tv_sec += grace;
			pressed = true;
			continue;
		}
		pressed = false;
		machine_request_stop(w->m, CLOAK_EXIT_SIGNAL, "cloak received signal %d (%s)", sig, strsignal(sig));
	}
}

/*
 * The host resources the devices and the timeline will use, checked before
 * /dev/kvm opens so that a mistake in them is reported as itself and before
 * anything runs: each device's option through its parse and probe hooks
 * (devices/devices.h). The devices open them again for real later; their own
 * checks stay, since a path may change in between.
 */
static int check_host_inputs(const struct vm_config *cfg, struct cloak_err *err)
{
	struct stat st;

	if (devices_check_options(cfg, true, err) < 0)
		return -1;
	if (cfg->timeline_path) {
		if (stat(cfg->timeline_path, &st) == 0 && S_ISDIR(st.st_mode))
			return err_set(err, "--timeline: %s is a directory; give the path of a file", cfg->timeline_path);
		if (config_check_parent_dir("--timeline", cfg->timeline_path, err) < 0)
			return -1;
	}
	return 0;
}

/* `cloak run` with *cfg, whose --config file cmd_run releases however this ends. */
static int run_vm(int argc, char **argv, struct vm_config *cfg)
{
	struct signal_waiter waiter;
	struct plan_inputs in;
	struct launch_plan plan;
	struct cloak_err err = { "" };
	struct cvm cvm;
	struct machine m;
	pthread_t sigthread;
	uint64_t pin_bytes;
	int rc, status;

	rc = config_parse_run(argc, argv, cfg, &err);
	if (rc == 1) {
		config_print_run_help(stdout, devices_print_help);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		return CLOAK_EXIT_ERROR;
	}
	/* The libraries only some runs need (lazylib.h), opened before anything is launched or sandboxed. */
	if ((cfg->sev && lazylib_load(LAZYLIB_CRYPTO, "--sev", &err) < 0) ||
	    (getenv("NOTIFY_SOCKET") && lazylib_load(LAZYLIB_SYSTEMD, "$NOTIFY_SOCKET (systemd's Type=notify)", &err) < 0)) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		return CLOAK_EXIT_ERROR;
	}
	if (check_host_inputs(cfg, &err) < 0 || plan_inputs_open(&in, cfg, &err) < 0) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		return CLOAK_EXIT_ERROR;
	}
	/* The confidential kind (the PSP, under SEV) says where the C-bit goes, and the plan's page tables carry it. */
	if (cvm_open(&cvm, cfg, &in.cbit, &err) < 0) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		plan_inputs_close(&in);
		return CLOAK_EXIT_ERROR;
	}
	cvm_plan_inputs(&cvm, &in);
	if (plan_build(&in, &plan, &err) < 0) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		cvm_close(&cvm);
		plan_inputs_close(&in);
		return CLOAK_EXIT_ERROR;
	}
	pin_bytes = cvm_pin_bytes(&cvm, &plan);
	if (pin_bytes && pin_preflight(pin_bytes, &err) < 0) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		cvm_close(&cvm);
		plan_free(&plan);
		plan_inputs_close(&in);
		return CLOAK_EXIT_ERROR;
	}

	machine_init(&m, cfg, &plan, &cvm);
	atomic_store(&m.tl.at[TL_PROCESS_START], 1);  /* 0 us: the clock starts in main() */
	waiter.m = &m;
	atomic_init(&waiter.done, false);
	sigemptyset(&waiter.set);
	sigaddset(&waiter.set, SIGINT);
	sigaddset(&waiter.set, SIGTERM);
	sigaddset(&waiter.set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &waiter.set, NULL);
	/* From here every thread cloak starts waits at the sandbox gate until the launch seals it. */
	if (sandbox_configure(cfg, &err) < 0) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		return CLOAK_EXIT_ERROR;
	}
	if (pthread_create(&sigthread, NULL, signal_thread, &waiter) != 0) {
		fprintf(stderr, "cloak: cannot start the signal thread (pthread_create)\n");
		return CLOAK_EXIT_ERROR;
	}

	if (launch_run(&m, &in, &err) < 0) {
		machine_request_stop(&m, CLOAK_EXIT_ERROR, "%s", err.msg);
		status = CLOAK_EXIT_ERROR;
		fprintf(stderr, "cloak: %s\n", err.msg);
	} else {
		status = m.stop_status;
		if (status == CLOAK_EXIT_GUEST_CRASH || status == CLOAK_EXIT_GUEST_STUCK || status == CLOAK_EXIT_ERROR ||
		    status == CLOAK_EXIT_SIGNAL)
			fprintf(stderr, "cloak: %s\n", m.stop_reason);
	}
	/* Wake the signal thread so it can be joined. */
	atomic_store(&waiter.done, true);
	pthread_kill(sigthread, SIGUSR2);
	pthread_join(sigthread, NULL);

	/* Measured before teardown: what the VMM itself costs, beside the guest's RAM. */
	timeline_mark(&m.tl, TL_TEARDOWN);
	m.tl.rss_kib = process_rss_kib();
	m.tl.guest_resident_kib = guestmem_resident_bytes(&m.mem) / KiB;
	if (cfg->timeline_path && timeline_write(&m.tl, cfg->timeline_path, &plan, status, &err) < 0) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		if (status == CLOAK_EXIT_POWEROFF)
			status = CLOAK_EXIT_ERROR;
	}
	machine_close(&m);
	cvm_close(&cvm);
	plan_free(&plan);
	plan_inputs_close(&in);
	return status;
}

static int cmd_run(int argc, char **argv)
{
	struct vm_config cfg;
	int status;

	config_defaults(&cfg);
	status = run_vm(argc, argv, &cfg);
	config_release(&cfg);
	return status;
}

/* `cloak config print [run options]`: what `cloak run` would use, in the --config format. */
static int cmd_config(int argc, char **argv)
{
	struct cloak_err err = { "" };
	struct vm_config cfg;
	char *text;
	int rc;

	if (argc < 2 || strcmp(argv[1], "print")) {
		fprintf(stderr, "cloak: usage: cloak config print [RUN OPTIONS]; see `cloak help`\n");
		return CLOAK_EXIT_ERROR;
	}
	config_defaults(&cfg);
	rc = config_parse_run(argc - 1, argv + 1, &cfg, &err);
	if (rc == 1) {
		config_print_run_help(stdout, devices_print_help);
		config_release(&cfg);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		config_release(&cfg);
		return CLOAK_EXIT_ERROR;
	}
	/* Each device checks its own option's values (nothing on the host: this only prints). */
	if (devices_check_options(&cfg, false, &err) < 0) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		config_release(&cfg);
		return CLOAK_EXIT_ERROR;
	}
	text = config_to_json(&cfg);
	config_release(&cfg);
	if (!text) {
		fprintf(stderr, "cloak: out of memory\n");
		return CLOAK_EXIT_ERROR;
	}
	printf("%s\n", text);
	free(text);
	return 0;
}

int main(int argc, char **argv)
{
	clock_start();
	if (argc < 2)
		return cmd_run(1, (char *[]){ "run", NULL });
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "bench"))
		return bench_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "config"))
		return cmd_config(argc - 1, argv + 1);
	if (!strcmp(argv[1], "host-check"))
		return sev_host_check_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sev-export")) {
		struct cloak_err err = { "" };

		if (lazylib_load(LAZYLIB_CRYPTO, "cloak sev-export", &err) < 0) {
			fprintf(stderr, "cloak: %s\n", err.msg);
			return CLOAK_EXIT_ERROR;
		}
		return sev_export_main(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("cloak %s\n", CLOAK_VERSION_STRING);
		return 0;
	}
	fprintf(stderr, "cloak: unknown command '%s'; see `cloak help`\n", argv[1]);
	return CLOAK_EXIT_ERROR;
}
