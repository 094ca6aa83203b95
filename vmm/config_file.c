/* config_file.c: `cloak run --config FILE`: one JSON file for the whole VM, checked by the command line's parsers; and its printing. */
#include "config.h"

#include "sev/sev.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The keys are the long options of `cloak run` with '_' for '-'; lists and
 * objects group what the command line repeats or prefixes: disks, net, sev.
 * Errors name the file and the key, then say what the option's own message
 * says (the same parser checks both).
 */

struct file_ctx {
	const char *path;
	struct vm_config *cfg;
	struct cloak_err *err;
};

static int key_error(struct file_ctx *c, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int key_error(struct file_ctx *c, const char *key, const char *fmt, ...)
{
	char msg[sizeof(c->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(c->err, "--config %s: key \"%s\": %s", c->path, key, msg);
}

/* A parser's own message, behind the file and key. */
static int key_failed(struct file_ctx *c, const char *key)
{
	return err_prefix(c->err, "--config %s: key \"%s\": ", c->path, key);
}

static int want_string(struct file_ctx *c, const char *key, json_t *v, const char **out)
{
	if (!json_is_string(v))
		return key_error(c, key, "give a string");
	*out = json_string_value(v);
	return 0;
}

static int want_bool(struct file_ctx *c, const char *key, json_t *v, bool *out)
{
	if (!json_is_boolean(v))
		return key_error(c, key, "give true or false");
	*out = json_is_true(v);
	return 0;
}

/* A number or a string, as the option's text: "512M" and 536870912 both work for mem. */
static int want_text(struct file_ctx *c, const char *key, json_t *v, char *buf, size_t len, const char **out)
{
	if (json_is_string(v)) {
		*out = json_string_value(v);
		return 0;
	}
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		*out = buf;
		return 0;
	}
	return key_error(c, key, "give a number or a string");
}

static int load_disks(struct file_ctx *c, json_t *v)
{
	size_t i;
	json_t *d;

	if (!json_is_array(v))
		return key_error(c, "disks", "give a list of {\"path\": PATH, \"ro\": BOOL}");
	c->cfg->ndisks = 0;
	json_array_foreach(v, i, d) {
		const char *k, *path = NULL;
		bool ro = false;
		json_t *x;

		if (!json_is_object(d))
			return key_error(c, "disks", "item %zu is not an object {\"path\": PATH, \"ro\": BOOL}", i);
		json_object_foreach(d, k, x) {
			if (!strcmp(k, "path")) {
				if (!json_is_string(x))
					return key_error(c, "disks", "item %zu: path: give a string", i);
				path = json_string_value(x);
			} else if (!strcmp(k, "ro")) {
				if (!json_is_boolean(x))
					return key_error(c, "disks", "item %zu: ro: give true or false", i);
				ro = json_is_true(x);
			} else {
				return key_error(c, "disks", "item %zu: unknown key \"%s\"; the keys are path and ro", i, k);
			}
		}
		if (!path || !*path)
			return key_error(c, "disks", "item %zu has no path", i);
		if (c->cfg->ndisks == CONFIG_MAX_DISKS)
			return key_error(c, "disks", "more than %d disks; attach at most %d", CONFIG_MAX_DISKS,
					 CONFIG_MAX_DISKS);
		if (strlen(path) >= sizeof(c->cfg->disks[0].path))
			return key_error(c, "disks", "item %zu: the path is longer than %zu bytes", i,
					 sizeof(c->cfg->disks[0].path) - 1);
		snprintf(c->cfg->disks[c->cfg->ndisks].path, sizeof(c->cfg->disks[0].path), "%s", path);
		c->cfg->disks[c->cfg->ndisks++].ro = ro;
	}
	return 0;
}

static int load_net(struct file_ctx *c, json_t *v)
{
	char spec[128];
	const char *tap = NULL, *mac = NULL, *k;
	json_t *n, *x;

	if (!json_is_array(v))
		return key_error(c, "net", "give a list of {\"tap\": NAME, \"mac\": MAC}");
	if (json_array_size(v) == 0)
		return 0;
	if (json_array_size(v) > 1)
		return key_error(c, "net", "%zu devices; cloak attaches one network device", json_array_size(v));
	n = json_array_get(v, 0);
	if (!json_is_object(n))
		return key_error(c, "net", "item 0 is not an object {\"tap\": NAME, \"mac\": MAC}");
	json_object_foreach(n, k, x) {
		if (!json_is_string(x))
			return key_error(c, "net", "item 0: %s: give a string", k);
		if (!strcmp(k, "tap"))
			tap = json_string_value(x);
		else if (!strcmp(k, "mac"))
			mac = json_string_value(x);
		else
			return key_error(c, "net", "item 0: unknown key \"%s\"; the keys are tap and mac", k);
	}
	if (!tap)
		return key_error(c, "net", "item 0 has no tap");
	snprintf(spec, sizeof(spec), "tap=%s%s%s", tap, mac ? ",mac=" : "", mac ? mac : "");
	c->cfg->net_tap[0] = 0;
	c->cfg->net_has_mac = false;
	return config_parse_net(spec, c->cfg, c->err) < 0 ? key_failed(c, "net") : 0;
}

static int load_sev(struct file_ctx *c, json_t *v)
{
	const char *k, *s;
	json_t *x;

	if (!json_is_object(v))
		return key_error(c, "sev", "give an object: {\"mode\": \"sev\", \"policy\": ..., ...}");
	c->cfg->sev = true;
	json_object_foreach(v, k, x) {
		char key[64];

		snprintf(key, sizeof(key), "sev.%s", k);
		if (!json_is_string(x))
			return key_error(c, key, "give a string");
		s = json_string_value(x);
		if (!strcmp(k, "mode")) {
			if (strcmp(s, "off") && !config_sev_mode_parse(s, &c->cfg->sev_mode))
				return key_error(c, key, "'%s' is not a mode; give sev (plain SEV), es (SEV-ES), snp (SEV-SNP) "
						 "or off", s);
			c->cfg->sev = !!strcmp(s, "off");
		} else if (!strcmp(k, "policy")) {
			if (sev_policy_parse(s, &c->cfg->sev_policy, "--policy", c->err) < 0)
				return key_failed(c, key);
		} else if (!strcmp(k, "backend")) {
			if (!strcmp(s, "real"))
				c->cfg->sev_backend = SEV_BACKEND_REAL;
			else if (!strcmp(s, "sim"))
				c->cfg->sev_backend = SEV_BACKEND_SIM;
			else
				return key_error(c, key, "'%s' is not a backend; give real (/dev/sev) or sim", s);
		} else if (!strcmp(k, "device")) {
			c->cfg->sev_device = s;
		} else if (!strcmp(k, "dh_cert_file")) {
			c->cfg->sev_dh_cert_path = s;
		} else if (!strcmp(k, "session_file")) {
			c->cfg->sev_session_path = s;
		} else if (!strcmp(k, "measurement_out")) {
			c->cfg->sev_measurement_out = s;
		} else if (!strcmp(k, "attest_cmd")) {
			if (!*s)
				return key_error(c, key, "empty command; give the command that verifies the measurement");
			c->cfg->sev_attest_cmd = s;
		} else if (!strcmp(k, "sim_key")) {
			c->cfg->sev_sim_key = s;
		} else if (!strcmp(k, "id_block")) {
			c->cfg->snp_id_block_path = s;
		} else if (!strcmp(k, "id_auth")) {
			c->cfg->snp_id_auth_path = s;
		} else if (!strcmp(k, "sim_report")) {
			c->cfg->snp_sim_report_dir = s;
		} else if (!strcmp(k, "host_data")) {
			uint8_t *d = NULL;
			size_t n = 0;

			if (sev_b64_decode(s, strlen(s), &d, &n) < 0 || n != sizeof(c->cfg->snp_host_data)) {
				free(d);
				return key_error(c, key, "give exactly 32 bytes in base64 (44 characters)");
			}
			memcpy(c->cfg->snp_host_data, d, n);
			free(d);
			c->cfg->snp_has_host_data = true;
		} else {
			return key_error(c, key, "unknown key; the keys of sev are mode, policy, backend, device, "
						 "dh_cert_file, session_file, measurement_out, attest_cmd, sim_key, id_block, id_auth, host_data, "
						 "sim_report");
		}
	}
	return 0;
}

static int load_key(struct file_ctx *c, const char *k, json_t *v)
{
	struct vm_config *cfg = c->cfg;
	char num[32];
	const char *s = NULL;
	bool b = false;

	if (!strcmp(k, "kernel"))
		return want_string(c, k, v, &cfg->kernel_path);
	if (!strcmp(k, "initrd"))
		return want_string(c, k, v, &cfg->initrd_path);
	if (!strcmp(k, "cmdline")) {
		if (want_string(c, k, v, &s) < 0)
			return -1;
		if (strlen(s) >= CONFIG_MAX_CMDLINE)
			return key_error(c, k, "%zu bytes is longer than the %d cloak passes; shorten it", strlen(s),
					 CONFIG_MAX_CMDLINE - 1);
		cfg->cmdline = s;
		return 0;
	}
	if (!strcmp(k, "mem") || !strcmp(k, "cpus") || !strcmp(k, "shutdown_timeout")) {
		if (want_text(c, k, v, num, sizeof(num), &s) < 0)
			return -1;
		if (!strcmp(k, "mem") ? config_parse_mem(s, &cfg->mem_size, c->err) < 0 :
		    !strcmp(k, "cpus") ? config_parse_cpus(s, &cfg->cpus, c->err) < 0 :
					 config_parse_shutdown_timeout(s, cfg, c->err) < 0)
			return key_failed(c, k);
		return 0;
	}
	if (!strcmp(k, "timeline"))
		return want_string(c, k, v, &cfg->timeline_path);
	if (!strcmp(k, "kvm_device"))
		return want_string(c, k, v, &cfg->kvm_device);
	if (!strcmp(k, "cpuid_clear")) {
		if (want_string(c, k, v, &s) < 0)
			return -1;
		cfg->ncpuid_clear = 0;
		return config_parse_cpuid_clear(s, cfg, c->err) < 0 ? key_failed(c, k) : 0;
	}
	if (!strcmp(k, "no_pin") || !strcmp(k, "hugepages")) {
		if (want_bool(c, k, v, &b) < 0)
			return -1;
		if (!strcmp(k, "no_pin"))
			cfg->pin = !b;
		else
			cfg->hugepages = b;
		return 0;
	}
	if (!strcmp(k, "disks"))
		return load_disks(c, v);
	if (!strcmp(k, "net"))
		return load_net(c, v);
	if (!strcmp(k, "console")) {
		if (want_string(c, k, v, &s) < 0)
			return -1;
		return config_parse_console(s, cfg, c->err) < 0 ? key_failed(c, k) : 0;
	}
	if (!strcmp(k, "sev"))
		return load_sev(c, v);
	if (!strcmp(k, "user")) {
		if (want_text(c, k, v, num, sizeof(num), &s) < 0)
			return -1;
		return config_parse_user(s, cfg, c->err) < 0 ? key_failed(c, k) : 0;
	}
	if (!strcmp(k, "seccomp")) {
		if (want_string(c, k, v, &s) < 0)
			return -1;
		return config_parse_seccomp(s, cfg, c->err) < 0 ? key_failed(c, k) : 0;
	}
	return err_set(c->err, "--config %s: unknown key \"%s\"; the keys are the long options of `cloak run` with _ "
			       "for - (kernel, initrd, cmdline, mem, cpus, timeline, cpuid_clear, no_pin, hugepages, "
			       "kvm_device, disks, net, console, sev, user, seccomp, shutdown_timeout)",
		       c->path, k);
}

int config_load_file(const char *path, struct vm_config *cfg, struct cloak_err *err)
{
	struct file_ctx c = { path, cfg, err };
	json_error_t jerr;
	const char *k;
	json_t *root, *v;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line < 0)
			return err_set(err, "--config %s: %s; give a readable JSON file", path, jerr.text);
		return err_set(err, "--config %s: line %d, column %d: %s", path, jerr.line, jerr.column, jerr.text);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(err, "--config %s: the file must hold one JSON object ({\"kernel\": ..., ...})", path);
	}
	/* The strings cfg points at live in the tree until config_release. */
	config_release(cfg);
	cfg->file_json = root;
	json_object_foreach(root, k, v)
		if (load_key(&c, k, v) < 0)
			return -1;
	return 0;
}

void config_release(struct vm_config *cfg)
{
	if (cfg->file_json)
		json_decref(cfg->file_json);
	cfg->file_json = NULL;
}

static void set_str(json_t *o, const char *k, const char *s)
{
	if (s)
		json_object_set_new(o, k, json_string(s));
}

char *config_to_json(const struct vm_config *cfg)
{
	static const char *const console_kinds[] = { "", "stdio", "file=", "socket=" };
	static const char *const seccomp_modes[] = { "on", "off", "log" };
	json_t *o = json_object(), *disks = json_array(), *net = json_array();
	char buf[64], *text;
	unsigned i;

	set_str(o, "kernel", cfg->kernel_path);
	set_str(o, "initrd", cfg->initrd_path);
	set_str(o, "cmdline", cfg->cmdline);
	json_object_set_new(o, "mem", json_integer((json_int_t)cfg->mem_size));
	json_object_set_new(o, "cpus", json_integer(cfg->cpus));
	set_str(o, "timeline", cfg->timeline_path);
	if (cfg->ncpuid_clear) {
		char list[CONFIG_MAX_CPUID_CLEAR * 32] = "";
		static const char *const regs[] = { "eax", "ebx", "ecx", "edx" };

		for (i = 0; i < cfg->ncpuid_clear; i++) {
			const struct cpuid_clear *cc = &cfg->cpuid_clear[i];
			unsigned bit = 0;

			while (bit < 31 && !(cc->mask & (1u << bit)))
				bit++;
			snprintf(buf, sizeof(buf), "%s0x%x.%u:%s:%u", i ? "," : "", cc->leaf, cc->subleaf, regs[cc->reg],
				 bit);
			strncat(list, buf, sizeof(list) - strlen(list) - 1);
		}
		json_object_set_new(o, "cpuid_clear", json_string(list));
	}
	json_object_set_new(o, "no_pin", json_boolean(!cfg->pin));
	json_object_set_new(o, "hugepages", json_boolean(cfg->hugepages));
	set_str(o, "kvm_device", cfg->kvm_device);
	for (i = 0; i < cfg->ndisks; i++)
		json_array_append_new(disks, json_pack("{s:s, s:b}", "path", cfg->disks[i].path, "ro", cfg->disks[i].ro));
	json_object_set_new(o, "disks", disks);
	if (cfg->net_tap[0]) {
		json_t *n = json_pack("{s:s}", "tap", cfg->net_tap);

		if (cfg->net_has_mac) {
			const uint8_t *m = cfg->net_mac;

			snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
			json_object_set_new(n, "mac", json_string(buf));
		}
		json_array_append_new(net, n);
	}
	json_object_set_new(o, "net", net);
	if (cfg->console != CONSOLE_NONE) {
		snprintf(buf, sizeof(buf), "%s", console_kinds[cfg->console]);
		text = malloc(strlen(buf) + (cfg->console_path ? strlen(cfg->console_path) : 0) + 1);
		if (text) {
			sprintf(text, "%s%s", buf, cfg->console == CONSOLE_STDIO ? "" : cfg->console_path);
			json_object_set_new(o, "console", json_string(text));
			free(text);
		}
	}
	if (cfg->sev) {
		json_t *s = json_object();

		json_object_set_new(s, "mode", json_string(config_sev_mode_name(cfg->sev_mode)));
		snprintf(buf, sizeof(buf), "0x%x", cfg->sev_policy);
		json_object_set_new(s, "policy", json_string(buf));
		json_object_set_new(s, "backend", json_string(cfg->sev_backend == SEV_BACKEND_SIM ? "sim" : "real"));
		set_str(s, "device", cfg->sev_device);
		set_str(s, "dh_cert_file", cfg->sev_dh_cert_path);
		set_str(s, "session_file", cfg->sev_session_path);
		set_str(s, "measurement_out", cfg->sev_measurement_out);
		set_str(s, "attest_cmd", cfg->sev_attest_cmd);
		set_str(s, "sim_key", cfg->sev_sim_key);
		set_str(s, "id_block", cfg->snp_id_block_path);
		set_str(s, "id_auth", cfg->snp_id_auth_path);
		set_str(s, "sim_report", cfg->snp_sim_report_dir);
		if (cfg->snp_has_host_data) {
			char *b64 = sev_b64_encode(cfg->snp_host_data, sizeof(cfg->snp_host_data));

			if (b64)
				json_object_set_new(s, "host_data", json_string(b64));
			free(b64);
		}
		json_object_set_new(o, "sev", s);
	}
	if (cfg->has_user) {
		snprintf(buf, sizeof(buf), "%u:%u", cfg->user_uid, cfg->user_gid);
		json_object_set_new(o, "user", json_string(buf));
	}
	json_object_set_new(o, "seccomp", json_string(seccomp_modes[cfg->seccomp]));
	json_object_set_new(o, "shutdown_timeout", json_integer(cfg->shutdown_timeout));
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}
