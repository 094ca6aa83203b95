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
	json_t *keep;  /* what cfg's strings point into: the file's tree, then the texts made from objects */
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

static int item_error(struct file_ctx *c, const char *key, int item, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int item_error(struct file_ctx *c, const char *key, int item, const char *fmt, ...)
{
	char msg[sizeof(c->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (item < 0)
		return key_error(c, key, "%s", msg);
	return key_error(c, key, "item %d: %s", item, msg);
}

/*
 * A device option's value in the file: the option's text as a string, or an
 * object whose keys become the text's settings, in order: "k": "v" gives k=v,
 * true and false k=on and k=off, a number k=N ({"tap": "tap0", "mac": MAC} is
 * tap=tap0,mac=MAC). The text made from an object lives in c->keep. The device
 * parses the text as it parses the command line's (devices/devices.h).
 */
static int device_text(struct file_ctx *c, const char *key, int item, json_t *v, const char **out)
{
	char text[8192], num[32];
	size_t n = 0;
	const char *k, *s;
	json_t *x, *str;

	if (json_is_string(v)) {
		*out = json_string_value(v);
		return 0;
	}
	if (!json_is_object(v))
		return item_error(c, key, item, "give the option's text as a string (as on the command line) or an "
						"object of its settings");
	json_object_foreach(v, k, x) {
		int w;

		if (json_is_string(x)) {
			s = json_string_value(x);
		} else if (json_is_boolean(x)) {
			s = json_is_true(x) ? "on" : "off";
		} else if (json_is_integer(x)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(x));
			s = num;
		} else {
			return item_error(c, key, item, "%s: give a string, true or false, or a number", k);
		}
		if (!*k || strpbrk(k, ",=") || strchr(s, ','))
			return item_error(c, key, item, "%s: a setting's name must be non-empty without ',' or '=', and "
							"its value without ','; rename what holds one", k);
		w = snprintf(text + n, sizeof(text) - n, "%s%s=%s", n ? "," : "", k, s);
		if (w < 0 || (size_t)w >= sizeof(text) - n)
			return item_error(c, key, item, "the settings are longer than %zu bytes; shorten them",
					  sizeof(text) - 1);
		n += (size_t)w;
	}
	if (n == 0)
		return item_error(c, key, item, "no settings; give the device's settings, or leave the item out");
	str = json_string(text);
	if (!str || json_array_append_new(c->keep, str) < 0)
		return err_set(c->err, "out of memory");
	*out = json_string_value(str);
	return 0;
}

/* A device option's key: one value, or a list of them; each is recorded for its device to parse. */
static int load_device(struct file_ctx *c, unsigned option, json_t *v)
{
	const char *key = config_device_options[option].file_key, *text;
	size_t i;
	json_t *x;

	if (!json_is_array(v)) {
		if (device_text(c, key, -1, v, &text) < 0)
			return -1;
		if (config_add_file_device(c->cfg, option, text, -1, c->err) < 0)
			return key_failed(c, key);
		return 0;
	}
	json_array_foreach(v, i, x) {
		if (device_text(c, key, (int)i, x, &text) < 0)
			return -1;
		if (config_add_file_device(c->cfg, option, text, (int)i, c->err) < 0)
			return item_error(c, key, (int)i, "%s", c->err->msg);
	}
	return 0;
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
			/* Read by --sev-mode's rules (SEV's 32 bits or SNP's 64) once the mode is known, as --policy is;
			 * a --policy on the command line replaces it. */
			c->cfg->policy_arg = s;
			c->cfg->policy_from_file = true;
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
		} else if (!strcmp(k, "measured_boot")) {
			if (config_parse_measured_boot(s, c->cfg, c->err) < 0)
				return key_failed(c, key);
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
						 "sim_report, measured_boot");
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
	unsigned i;

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
	for (i = 0; i < config_ndevice_options; i++)
		if (!strcmp(k, config_device_options[i].file_key))
			return load_device(c, i, v);
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
	{
		char devices[256] = "";

		for (i = 0; i < config_ndevice_options; i++)
			snprintf(devices + strlen(devices), sizeof(devices) - strlen(devices), "%s, ",
				 config_device_options[i].file_key);
		return err_set(c->err, "--config %s: unknown key \"%s\"; the keys are the long options of `cloak run` "
				       "with _ for - (kernel, initrd, cmdline, mem, cpus, timeline, cpuid_clear, no_pin, "
				       "hugepages, kvm_device, %ssev, user, seccomp, shutdown_timeout)",
			       c->path, k, devices);
	}
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
	/* The strings cfg points at live in c.keep (the tree and the texts made from it) until config_release. */
	config_release(cfg);
	c.keep = json_array();
	if (!c.keep || json_array_append_new(c.keep, root) < 0) {
		json_decref(c.keep);
		return err_set(err, "out of memory");
	}
	cfg->file_json = c.keep;
	cfg->file_path = path;
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
	static const char *const seccomp_modes[] = { "on", "off", "log" };
	json_t *o = json_object();
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
	/* Each device option as its text, which --config reads back: a list, or one string when max is 1. */
	for (i = 0; i < config_ndevice_options; i++) {
		const struct device_option *d = &config_device_options[i];
		json_t *list = json_array();
		const char *v;
		unsigned n;

		for (n = 0; (v = config_device_value(cfg, d->name, n)); n++)
			json_array_append_new(list, json_string(v));
		if (d->max > 1)
			json_object_set_new(o, d->file_key, list);
		else if (n == 1)
			json_object_set_new(o, d->file_key, json_incref(json_array_get(list, 0)));
		if (d->max == 1)
			json_decref(list);
	}
	if (cfg->sev) {
		json_t *s = json_object();

		json_object_set_new(s, "mode", json_string(config_sev_mode_name(cfg->sev_mode)));
		snprintf(buf, sizeof(buf), "0x%llx", cfg->sev_mode == SEV_LAUNCH_SNP ? (unsigned long long)cfg->snp_policy :
						      (unsigned long long)cfg->sev_policy);
		json_object_set_new(s, "policy", json_string(buf));
		json_object_set_new(s, "backend", json_string(cfg->sev_backend == SEV_BACKEND_SIM ? "sim" : "real"));
		set_str(s, "device", cfg->sev_device);
		set_str(s, "dh_cert_file", cfg->sev_dh_cert_path);
		set_str(s, "session_file", cfg->sev_session_path);
		set_str(s, "measurement_out", cfg->sev_measurement_out);
		set_str(s, "attest_cmd", cfg->sev_attest_cmd);
		set_str(s, "sim_key", cfg->sev_sim_key);
		json_object_set_new(s, "measured_boot",
				    json_string(config_measured_boot(cfg) == MEASURED_BOOT_FULL ? "full" : "verifier"));
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
