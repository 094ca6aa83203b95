/* main.c: the cloak command line: subcommands, and `cloak run` from config to exit status. */
#include "cloak.h"
#include "config.h"
#include "cvm.h"
#include "devices.h"
#include "launch.h"
#include "plan.h"
#include "sandbox.h"
#include "sev/sev.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cloak COMMAND [OPTIONS]\n"
		"\n"
		"cloak is a micro-VMM for confidential guests on KVM.\n"
		"\n"
		"commands:\n"
		"  run [OPTIONS]   boot a guest (with no options: the built-in demo guest)\n"
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
};

/*
 * SIGINT stops the VM; SIGTERM first presses the guest's power button and
 * gives it --shutdown-timeout seconds to power off (README "Exit status").
 * Handled on a thread of their own.
 */
static void *signal_thread(void *opaque)
{
	struct signal_waiter *w = opaque;
	unsigned grace = w->m->cfg->shutdown_timeout;
	int sig;

	(void)sandbox_thread_enter(SANDBOX_SIGNAL);
	if (sigwait(&w->set, &sig) != 0 || sig == SIGUSR2)
		return NULL;
	if (sig == SIGTERM && grace && power_button_press()) {
		fprintf(stderr, "cloak: SIGTERM: pressed the guest's power button; it has %u s to power off\n", grace);
		/* The guest's poweroff wakes this thread with SIGUSR2; another SIGTERM or SIGINT stops it at once. */
		sig = sigtimedwait(&w->set, NULL, &(struct timespec){ .tv_sec = grace });
		if (sig == SIGUSR2)
			return NULL;
		if (sig < 0) {
			machine_request_stop(w->m, CLOAK_EXIT_SIGNAL, "cloak received SIGTERM and the guest did not power "
					     "off within %u s (--shutdown-timeout); stopped it", grace);
			return NULL;
		}
	}
	machine_request_stop(w->m, CLOAK_EXIT_SIGNAL, "cloak received signal %d (%s)", sig, strsignal(sig));
	return NULL;
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
		config_print_run_help(stdout);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		return CLOAK_EXIT_ERROR;
	}
	if (plan_inputs_open(&in, cfg, &err) < 0) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		return CLOAK_EXIT_ERROR;
	}
	/* The confidential kind (the PSP, under SEV) says where the C-bit goes, and the plan's page tables carry it. */
	if (cvm_open(&cvm, cfg, &in.cbit, &err) < 0) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		plan_inputs_close(&in);
		return CLOAK_EXIT_ERROR;
	}
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
	pthread_kill(sigthread, SIGUSR2);
	pthread_join(sigthread, NULL);

	/* Measured before teardown: what the VMM itself costs, beside the guest's RAM. */
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
		config_print_run_help(stdout);
		config_release(&cfg);
		return 0;
	}
	if (rc < 0) {
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
	if (!strcmp(argv[1], "config"))
		return cmd_config(argc - 1, argv + 1);
	if (!strcmp(argv[1], "host-check"))
		return sev_host_check_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sev-export"))
		return sev_export_main(argc - 1, argv + 1);
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
