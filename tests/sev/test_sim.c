/* test_sim.c: the simulated PSP against the SEV API's rules: order, alignment, lengths, MACs, policy, ASIDs. */
#include "sev_tests.h"

#include "sev/sev.h"
#include "sev/sim_memview.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#define VM 100

static struct psp *psp;
static uint8_t page[3 * 4096] __attribute__((aligned(4096)));

static void setup(void)
{
	struct psp_sim_params p;
	struct cloak_err err = { "" };

	psp_sim_default_params(&p);
	psp = psp_sim_open(&p, &err);
	ck_assert_msg(psp != NULL, "%s", err.msg);
	memset(page, 0x5a, sizeof(page));
}

static void teardown(void)
{
	psp_close(psp);
	psp = NULL;
}

/* Runs one VM command; returns -errno or 0; *fw gets the firmware status. */
static int vm(uint32_t id, void *data, uint32_t *fw)
{
	uint32_t dummy;

	return psp->ops->vm_cmd(psp, VM, id, data, fw ? fw : &dummy);
}

static void expect_fw(int rc, uint32_t fw, uint32_t want)
{
	ck_assert_int_eq(rc, -EIO);
	ck_assert_msg(fw == want, "firmware status 0x%x (%s), wanted 0x%x (%s)", fw,
		      sev_fw_status_name(fw) ? sev_fw_status_name(fw) : "?", want, sev_fw_status_name(want));
}

static void init_and_start(uint32_t policy)
{
	struct kvm_sev_launch_start s = { .policy = policy };
	uint32_t fw = 0;

	ck_assert_int_eq(vm(KVM_SEV_INIT, NULL, NULL), 0);
	ck_assert_int_eq(vm(KVM_SEV_LAUNCH_START, &s, &fw), 0);
	ck_assert_uint_ne(s.handle, 0);
}

static int update(const void *p, uint32_t len, uint32_t *fw)
{
	struct kvm_sev_launch_update_data u = { .uaddr = (uint64_t)(uintptr_t)p, .len = len };

	return vm(KVM_SEV_LAUNCH_UPDATE_DATA, &u, fw);
}

static int measure(uint8_t blob[SEV_MEASURE_BLOB_LEN], uint32_t *fw)
{
	struct kvm_sev_launch_measure m = { .uaddr = (uint64_t)(uintptr_t)blob, .len = SEV_MEASURE_BLOB_LEN };

	return vm(KVM_SEV_LAUNCH_MEASURE, &m, fw);
}

START_TEST(platform_status_reports_the_simulated_platform)
{
	struct sev_user_data_status st;
	struct cloak_err err = { "" };

	ck_assert_int_eq(psp_platform_status(psp, &st, &err), 0);
	ck_assert_uint_eq(st.api_major, 1);
	ck_assert_uint_eq(st.api_minor, 55);
	ck_assert_uint_eq(st.state, SEV_PSTATE_UNINIT);
	ck_assert_uint_eq(st.guest_count, 0);
	ck_assert_uint_eq(st.flags & SEV_STATUS_FLAGS_CONFIG_ES, SEV_STATUS_FLAGS_CONFIG_ES);  /* Milan and later */
	ck_assert_int_eq(psp->cbit, PSP_SIM_CBIT);
	ck_assert(psp->simulated);
	init_and_start(SEV_POLICY_NODBG);
	ck_assert_int_eq(psp_platform_status(psp, &st, &err), 0);
	ck_assert_uint_eq(st.state, SEV_PSTATE_WORKING);
	ck_assert_uint_eq(st.guest_count, 1);
}
END_TEST

START_TEST(commands_before_init_get_enotty)
{
	struct kvm_sev_launch_start s = { 0 };
	struct kvm_enc_region r = { (uint64_t)(uintptr_t)page, sizeof(page) };

	ck_assert_int_eq(vm(KVM_SEV_LAUNCH_START, &s, NULL), -ENOTTY);
	ck_assert_int_eq(update(page, 16, NULL), -ENOTTY);
	ck_assert_int_eq(vm(KVM_SEV_LAUNCH_FINISH, NULL, NULL), -ENOTTY);
	ck_assert_int_eq(psp->ops->reg_region(psp, VM, &r), -ENOTTY);
}
END_TEST

START_TEST(init_rules)
{
	struct kvm_sev_init in = { 0 };
	struct psp_sim_params p;
	struct cloak_err err = { "" };

	/* A KVM without KVM_X86_SEV_VM: the VM has the default type, which INIT2 refuses. */
	ck_assert_int_eq(vm(KVM_SEV_INIT2, &in, NULL), -EINVAL);
	ck_assert_int_eq(vm(KVM_SEV_INIT, NULL, NULL), 0);
	ck_assert_int_eq(vm(KVM_SEV_INIT, NULL, NULL), -EINVAL);  /* already active */

	/* A KVM with KVM_X86_SEV_VM: INIT2 with a zeroed kvm_sev_init, and legacy INIT refused. */
	psp_close(psp);
	psp_sim_default_params(&p);
	p.sev_vm_type = true;
	psp = psp_sim_open(&p, &err);
	ck_assert_msg(psp != NULL, "%s", err.msg);
	ck_assert(psp->sim_sev_vm_type);
	ck_assert_int_eq(vm(KVM_SEV_INIT, NULL, NULL), -EINVAL);
	in.flags = 1;
	ck_assert_int_eq(vm(KVM_SEV_INIT2, &in, NULL), -EINVAL);
	in.flags = 0;
	in.ghcb_version = 2;
	ck_assert_int_eq(vm(KVM_SEV_INIT2, &in, NULL), -EINVAL);
	in.ghcb_version = 0;
	ck_assert_int_eq(vm(KVM_SEV_INIT2, NULL, NULL), -EFAULT);
	ck_assert_int_eq(vm(KVM_SEV_INIT2, &in, NULL), 0);
	ck_assert_int_eq(vm(KVM_SEV_INIT2, &in, NULL), -EINVAL);  /* already active */
}
END_TEST

/* SEV-ES: how KVM starts it, the ES policy, and LAUNCH_UPDATE_VMSA's preconditions (the VMSAs themselves: sev-e2e). */
START_TEST(es_rules)
{
	struct kvm_sev_launch_start s = { .policy = SEV_POLICY_NODBG };
	struct kvm_sev_init in = { 0 };
	struct psp_sim_params p;
	struct cloak_err err = { "" };
	uint32_t fw = 0;
	int fd = 7, rc;

	/* A 6.1 KVM: legacy KVM_SEV_ES_INIT, then a plain SEV policy does not match the SEV-ES ASID. */
	ck_assert_int_eq(vm(KVM_SEV_ES_INIT, NULL, NULL), 0);
	rc = vm(KVM_SEV_LAUNCH_START, &s, &fw);
	expect_fw(rc, fw, SEV_RET_POLICY_FAILURE);
	s.policy = SEV_POLICY_NODBG | SEV_POLICY_ES;
	ck_assert_int_eq(vm(KVM_SEV_LAUNCH_START, &s, &fw), 0);
	/* KVM walks the vCPUs; a simulated KVM never told them has none to measure. */
	ck_assert_int_eq(vm(KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, NULL), -EINVAL);
	ck_assert_int_eq(psp_sim_set_vcpus(psp, VM + 1, &fd, 1), -ENOTTY);

	/* A plain SEV guest has no VMSA to update, and an ES policy does not fit its ASID. */
	psp_close(psp);
	psp_sim_default_params(&p);
	psp = psp_sim_open(&p, &err);
	ck_assert_msg(psp != NULL, "%s", err.msg);
	ck_assert_int_eq(vm(KVM_SEV_INIT, NULL, NULL), 0);
	s.handle = 0;  /* a new guest, not key sharing with the last one */
	rc = vm(KVM_SEV_LAUNCH_START, &s, &fw);
	expect_fw(rc, fw, SEV_RET_POLICY_FAILURE);
	s.policy = SEV_POLICY_NODBG;
	ck_assert_int_eq(vm(KVM_SEV_LAUNCH_START, &s, &fw), 0);
	ck_assert_int_eq(vm(KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, NULL), -ENOTTY);

	/* A 6.10+ KVM: INIT2 on an SEV-ES VM type takes only the VMSA features it offers, and GHCB 2 at most. */
	psp_close(psp);
	psp_sim_default_params(&p);
	p.sev_vm_type = true;
	psp = psp_sim_open(&p, &err);
	ck_assert_msg(psp != NULL, "%s", err.msg);
	ck_assert_uint_eq(psp->sim_vmsa_features, SEV_FEAT_DEBUG_SWAP);
	psp->sim_vm_type = KVM_X86_SEV_ES_VM;
	ck_assert_int_eq(vm(KVM_SEV_ES_INIT, NULL, NULL), -EINVAL);  /* legacy init: default VM type only */
	in.vmsa_features = 1ull << 4;
	ck_assert_int_eq(vm(KVM_SEV_INIT2, &in, NULL), -EINVAL);
	in.vmsa_features = SEV_FEAT_DEBUG_SWAP;
	in.ghcb_version = 3;
	ck_assert_int_eq(vm(KVM_SEV_INIT2, &in, NULL), -EINVAL);
	in.ghcb_version = 0;
	ck_assert_int_eq(vm(KVM_SEV_INIT2, &in, NULL), 0);
	s.handle = 0;
	s.policy = SEV_POLICY_NODBG | SEV_POLICY_ES;
	ck_assert_int_eq(vm(KVM_SEV_LAUNCH_START, &s, &fw), 0);

	/* A platform without SEV-ES has no ES ASID to give. */
	psp_close(psp);
	psp_sim_default_params(&p);
	p.es = false;
	psp = psp_sim_open(&p, &err);
	ck_assert_msg(psp != NULL, "%s", err.msg);
	ck_assert_int_eq(vm(KVM_SEV_ES_INIT, NULL, NULL), -ENOTTY);
}
END_TEST

START_TEST(out_of_order_commands_get_invalid_guest_state)
{
	struct kvm_sev_launch_start s = { .policy = 1 };
	uint8_t blob[SEV_MEASURE_BLOB_LEN];
	uint32_t fw = 0;
	int rc;

	ck_assert_int_eq(vm(KVM_SEV_INIT, NULL, NULL), 0);
	rc = update(page, 16, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_GUEST_STATE);
	rc = measure(blob, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_GUEST_STATE);
	ck_assert_int_eq(vm(KVM_SEV_LAUNCH_START, &s, &fw), 0);
	rc = vm(KVM_SEV_LAUNCH_START, &s, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_GUEST_STATE);
	rc = vm(KVM_SEV_LAUNCH_FINISH, NULL, &fw);  /* FINISH needs MEASURE first */
	expect_fw(rc, fw, SEV_RET_INVALID_GUEST_STATE);
	ck_assert_int_eq(update(page, 4096, &fw), 0);
	ck_assert_int_eq(measure(blob, &fw), 0);
	rc = update(page + 4096, 16, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_GUEST_STATE);
	rc = measure(blob, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_GUEST_STATE);
	ck_assert_int_eq(vm(KVM_SEV_LAUNCH_FINISH, NULL, &fw), 0);
	rc = vm(KVM_SEV_LAUNCH_FINISH, NULL, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_GUEST_STATE);
}
END_TEST

START_TEST(misaligned_updates_are_refused)
{
	uint32_t fw = 0;
	int rc;

	init_and_start(1);
	rc = update(page + 8, 16, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_ADDRESS);
	rc = update(page, 24, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_LEN);
	ck_assert_int_eq(update(page, 0, &fw), -EINVAL);  /* KVM refuses to pin nothing */
}
END_TEST

START_TEST(the_same_page_is_never_updated_twice)
{
	uint32_t fw = 0;
	int rc;

	init_and_start(1);
	ck_assert_int_eq(update(page, 32, &fw), 0);
	rc = update(page + 2048, 32, &fw);  /* another range, same page */
	expect_fw(rc, fw, SEV_RET_INVALID_PARAM);
	ck_assert_int_eq(update(page + 4096, 4096, &fw), 0);
	rc = update(page + 4096 - 16, 32, &fw);  /* straddles both updated pages */
	expect_fw(rc, fw, SEV_RET_INVALID_PARAM);
	ck_assert_int_eq(update(page + 8192, 16, &fw), 0);
}
END_TEST

START_TEST(measure_is_hmac_of_the_running_digest)
{
	struct kvm_sev_launch_measure q = { 0 };
	struct sev_measure_input in = { .api_major = 1, .api_minor = 55, .build = 21, .policy = 0x3 };
	uint8_t blob[SEV_MEASURE_BLOB_LEN], want[32], zero_tik[16] = { 0 };
	uint32_t fw = 0;
	int rc;

	init_and_start(0x3);
	ck_assert_int_eq(update(page, 4096, &fw), 0);
	ck_assert_int_eq(update(page + 4096, 48, &fw), 0);
	/* The length query. */
	rc = vm(KVM_SEV_LAUNCH_MEASURE, &q, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_LEN);
	ck_assert_uint_eq(q.len, 48);
	ck_assert_int_eq(measure(blob, &fw), 0);
	/*
	 * No session: the keys are random, so nobody can verify this measurement,
	 * least of all with a zero TIK. (a_session_opens_and_keys_the_measurement
	 * checks the digest and the HMAC with a known TIK.)
	 */
	ck_assert_int_eq(sev_sha256(page, 4096 + 48, in.digest), 0);
	memcpy(in.mnonce, blob + 32, 16);
	ck_assert_int_eq(sev_measure_compute(zero_tik, &in, want), 0);
	ck_assert_msg(memcmp(blob, want, 32) != 0, "without a session the simulated TIK is zero");
}
END_TEST

START_TEST(bad_policies_fail_at_launch_start)
{
	struct kvm_sev_launch_start s = { .policy = 0x40 };
	uint32_t fw = 0;
	int rc;

	ck_assert_int_eq(vm(KVM_SEV_INIT, NULL, NULL), 0);
	rc = vm(KVM_SEV_LAUNCH_START, &s, &fw);
	expect_fw(rc, fw, SEV_RET_POLICY_FAILURE);
	s.policy = SEV_POLICY_ES;  /* an ES policy on a plain SEV VM's ASID */
	rc = vm(KVM_SEV_LAUNCH_START, &s, &fw);
	expect_fw(rc, fw, SEV_RET_POLICY_FAILURE);
	s.policy = 2u << 16;  /* needs API 2.0 */
	rc = vm(KVM_SEV_LAUNCH_START, &s, &fw);
	expect_fw(rc, fw, SEV_RET_POLICY_FAILURE);
	s.policy = 1u << 16 | 56u << 24;  /* needs API 1.56 */
	rc = vm(KVM_SEV_LAUNCH_START, &s, &fw);
	expect_fw(rc, fw, SEV_RET_POLICY_FAILURE);
	s.policy = 1u << 16 | 55u << 24 | 1;
	ck_assert_int_eq(vm(KVM_SEV_LAUNCH_START, &s, &fw), 0);
}
END_TEST

/* A session the guest owner built for this simulated platform. */
struct owner {
	uint8_t godh[SEV_CERT_LEN], session[SEV_SESSION_LEN];
	struct sev_keys keys;
};

static void owner_session(struct owner *o, uint32_t policy)
{
	struct cloak_err err = { "" };
	uint8_t pdh[SEV_CERT_LEN];

	memset(o->keys.tek, 0x11, 16);
	memset(o->keys.tik, 0x22, 16);
	ck_assert_msg(psp_pdh_export(psp, pdh, &err) == 0, "%s", err.msg);
	ck_assert_msg(sev_session_create(pdh, policy, &o->keys, o->godh, o->session, &err) == 0, "%s", err.msg);
}

static int start_with(struct owner *o, uint32_t policy, uint32_t *fw)
{
	struct kvm_sev_launch_start s = {
		.policy = policy,
		.dh_uaddr = (uint64_t)(uintptr_t)o->godh, .dh_len = SEV_CERT_LEN,
		.session_uaddr = (uint64_t)(uintptr_t)o->session, .session_len = SEV_SESSION_LEN,
	};

	return vm(KVM_SEV_LAUNCH_START, &s, fw);
}

START_TEST(a_session_opens_and_keys_the_measurement)
{
	struct sev_measure_input in = { .api_major = 1, .api_minor = 55, .build = 21, .policy = 1 };
	uint8_t blob[SEV_MEASURE_BLOB_LEN], want[32];
	struct owner o;
	uint32_t fw = 0;

	owner_session(&o, 1);
	ck_assert_int_eq(vm(KVM_SEV_INIT, NULL, NULL), 0);
	ck_assert_int_eq(start_with(&o, 1, &fw), 0);
	ck_assert_int_eq(update(page, 64, &fw), 0);
	ck_assert_int_eq(measure(blob, &fw), 0);
	ck_assert_int_eq(sev_sha256(page, 64, in.digest), 0);
	memcpy(in.mnonce, blob + 32, 16);
	ck_assert_int_eq(sev_measure_compute(o.keys.tik, &in, want), 0);
	ck_assert_mem_eq(blob, want, 32);
}
END_TEST

START_TEST(session_mismatches_get_bad_measurement)
{
	struct owner o;
	uint32_t fw = 0;
	int rc;

	owner_session(&o, 1);
	ck_assert_int_eq(vm(KVM_SEV_INIT, NULL, NULL), 0);
	rc = start_with(&o, 3, &fw);  /* POLICY_MAC was made for policy 1 */
	expect_fw(rc, fw, SEV_RET_BAD_MEASUREMENT);
	o.session[70] ^= 1;  /* WRAP_MAC */
	rc = start_with(&o, 1, &fw);
	expect_fw(rc, fw, SEV_RET_BAD_MEASUREMENT);
	o.session[70] ^= 1;
	o.session[20] ^= 1;  /* WRAP_TK: the MAC over it no longer verifies */
	rc = start_with(&o, 1, &fw);
	expect_fw(rc, fw, SEV_RET_BAD_MEASUREMENT);
	o.session[20] ^= 1;
	ck_assert_int_eq(start_with(&o, 1, &fw), 0);
}
END_TEST

START_TEST(a_session_for_another_platform_does_not_open)
{
	struct psp_sim_params p;
	struct cloak_err err = { "" };
	struct psp *other, *mine = psp;
	struct owner o;
	uint32_t fw = 0;
	int rc;

	psp_sim_default_params(&p);
	other = psp_sim_open(&p, &err);
	ck_assert_ptr_nonnull(other);
	psp = other;
	owner_session(&o, 1);
	psp = mine;
	psp_close(other);
	ck_assert_int_eq(vm(KVM_SEV_INIT, NULL, NULL), 0);
	rc = start_with(&o, 1, &fw);
	expect_fw(rc, fw, SEV_RET_BAD_MEASUREMENT);
}
END_TEST

START_TEST(bad_godh_and_lengths)
{
	struct kvm_sev_launch_start s = { .policy = 1 };
	struct owner o;
	uint32_t fw = 0;
	int rc;

	owner_session(&o, 1);
	ck_assert_int_eq(vm(KVM_SEV_INIT, NULL, NULL), 0);
	o.godh[8] = 0x02;  /* usage no longer PDH */
	rc = start_with(&o, 1, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_CERTIFICATE);
	o.godh[8] = 0x03;
	o.godh[0x14] ^= 0xff;  /* X no longer on the curve */
	rc = start_with(&o, 1, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_CERTIFICATE);
	o.godh[0x14] ^= 0xff;
	s.dh_uaddr = (uint64_t)(uintptr_t)o.godh;
	s.dh_len = SEV_CERT_LEN - 4;
	s.session_uaddr = (uint64_t)(uintptr_t)o.session;
	s.session_len = SEV_SESSION_LEN;
	rc = vm(KVM_SEV_LAUNCH_START, &s, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_LEN);
	s.dh_len = SEV_CERT_LEN;
	s.session_uaddr = 0;
	s.session_len = 0;
	rc = vm(KVM_SEV_LAUNCH_START, &s, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_LEN);
	s.dh_len = SEV_FW_BLOB_MAX + 1;  /* KVM refuses to copy it */
	ck_assert_int_eq(vm(KVM_SEV_LAUNCH_START, &s, &fw), -EINVAL);
}
END_TEST

/* LAUNCH_SECRET with the given header and payload into page + 4096. */
static int secret(const uint8_t *hdr, uint32_t hdr_len, uint8_t *guest, uint32_t guest_len, const uint8_t *trans,
		  uint32_t trans_len, uint32_t *fw)
{
	struct kvm_sev_launch_secret s = {
		.hdr_uaddr = (uint64_t)(uintptr_t)hdr, .hdr_len = hdr_len,
		.guest_uaddr = (uint64_t)(uintptr_t)guest, .guest_len = guest_len,
		.trans_uaddr = (uint64_t)(uintptr_t)trans, .trans_len = trans_len,
	};

	return vm(KVM_SEV_LAUNCH_SECRET, &s, fw);
}

START_TEST(secrets_are_checked_and_decrypted)
{
	struct cloak_err err = { "" };
	uint8_t blob[SEV_MEASURE_BLOB_LEN], hdr[SEV_SECRET_HDR_LEN], plain[64], trans[64], iv[16];
	struct sev_keys wrong;
	struct owner o;
	uint32_t fw = 0;
	int rc;

	owner_session(&o, 1);
	ck_assert_int_eq(vm(KVM_SEV_INIT, NULL, NULL), 0);
	ck_assert_int_eq(start_with(&o, 1, &fw), 0);
	rc = secret(hdr, sizeof(hdr), page + 4096, 64, trans, 64, &fw);  /* before MEASURE */
	expect_fw(rc, fw, SEV_RET_INVALID_GUEST_STATE);
	ck_assert_int_eq(update(page, 4096, &fw), 0);
	ck_assert_int_eq(measure(blob, &fw), 0);
	memset(plain, 'S', sizeof(plain));
	memset(iv, 7, sizeof(iv));

	/* Packaged with the wrong TIK: the MAC does not verify. */
	wrong = o.keys;
	wrong.tik[0] ^= 1;
	ck_assert_int_eq(sev_secret_wrap(&wrong, blob, true, iv, plain, 64, hdr, trans, &err), 0);
	rc = secret(hdr, sizeof(hdr), page + 4096, 64, trans, 64, &fw);
	expect_fw(rc, fw, SEV_RET_BAD_MEASUREMENT);
	/* Packaged for another measurement. */
	blob[0] ^= 1;
	ck_assert_int_eq(sev_secret_wrap(&o.keys, blob, true, iv, plain, 64, hdr, trans, &err), 0);
	rc = secret(hdr, sizeof(hdr), page + 4096, 64, trans, 64, &fw);
	expect_fw(rc, fw, SEV_RET_BAD_MEASUREMENT);
	blob[0] ^= 1;

	ck_assert_int_eq(sev_secret_wrap(&o.keys, blob, true, iv, plain, 64, hdr, trans, &err), 0);
	trans[5] ^= 1;
	rc = secret(hdr, sizeof(hdr), page + 4096, 64, trans, 64, &fw);
	expect_fw(rc, fw, SEV_RET_BAD_MEASUREMENT);
	trans[5] ^= 1;
	rc = secret(hdr, sizeof(hdr) - 1, page + 4096, 64, trans, 64, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_LEN);
	rc = secret(hdr, sizeof(hdr), page + 4096, 48, trans, 64, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_LEN);
	rc = secret(hdr, sizeof(hdr), page + 4096 + 8, 64, trans, 64, &fw);
	expect_fw(rc, fw, SEV_RET_INVALID_ADDRESS);
	hdr[0] = 1;  /* COMPRESSED */
	rc = secret(hdr, sizeof(hdr), page + 4096, 64, trans, 64, &fw);
	expect_fw(rc, fw, SEV_RET_UNSUPPORTED);
	hdr[0] = 0;
	ck_assert_int_eq(secret(hdr, 0, page + 4096, 64, trans, 64, &fw), -EINVAL);

	memset(page + 4096, 0, 64);
	ck_assert_int_eq(secret(hdr, sizeof(hdr), page + 4096, 64, trans, 64, &fw), 0);
	ck_assert_mem_eq(page + 4096, plain, 64);
	ck_assert_int_eq(vm(KVM_SEV_LAUNCH_FINISH, NULL, &fw), 0);
}
END_TEST

START_TEST(asids_run_out_with_ebusy)
{
	struct psp_sim_params p;
	struct cloak_err err = { "" };
	uint32_t fw;

	psp_close(psp);
	psp_sim_default_params(&p);
	p.asids = 1;
	psp = psp_sim_open(&p, &err);
	ck_assert_ptr_nonnull(psp);
	ck_assert_int_eq(psp->ops->vm_cmd(psp, 1, KVM_SEV_INIT, NULL, &fw), 0);
	ck_assert_int_eq(psp->ops->vm_cmd(psp, 2, KVM_SEV_INIT, NULL, &fw), -EBUSY);
	ck_assert_int_lt(psp_vm(psp, 2, KVM_SEV_INIT, NULL, NULL, &err), 0);
	ck_assert_msg_has(err.msg, "KVM_SEV_INIT");
	ck_assert_msg_has(err.msg, "EBUSY");
	ck_assert_msg_has(err.msg, "ASIDs are used up");
	psp->ops->vm_release(psp, 1);
	ck_assert_int_eq(psp->ops->vm_cmd(psp, 2, KVM_SEV_INIT, NULL, &fw), 0);
}
END_TEST

START_TEST(pdh_export_answers_the_length_query)
{
	struct sev_user_data_pdh_cert_export x = { 0 };
	struct cloak_err err = { "" };
	uint8_t pdh[SEV_CERT_LEN];
	EVP_PKEY *k;
	uint32_t fw = 0;

	ck_assert_int_lt(psp_platform(psp, SEV_PDH_CERT_EXPORT, &x, &fw, NULL), 0);
	ck_assert_uint_eq(fw, SEV_RET_INVALID_LEN);
	ck_assert_uint_eq(x.pdh_cert_len, SEV_CERT_LEN);
	ck_assert_int_eq(psp_pdh_export(psp, pdh, &err), 0);
	k = sev_cert_pubkey(pdh, SEV_USAGE_PDH, "PDH", &err);
	ck_assert_msg(k != NULL, "%s", err.msg);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(failures_name_the_command_and_status)
{
	struct cloak_err err = { "" };
	struct owner o;

	owner_session(&o, 1);
	ck_assert_int_eq(vm(KVM_SEV_INIT, NULL, NULL), 0);
	o.session[100] ^= 1;
	{
		struct kvm_sev_launch_start s = {
			.policy = 1, .dh_uaddr = (uint64_t)(uintptr_t)o.godh, .dh_len = SEV_CERT_LEN,
			.session_uaddr = (uint64_t)(uintptr_t)o.session, .session_len = SEV_SESSION_LEN,
		};

		ck_assert_int_lt(psp_vm(psp, VM, KVM_SEV_LAUNCH_START, &s, NULL, &err), 0);
	}
	ck_assert_msg_has(err.msg, "KVM_SEV_LAUNCH_START");
	ck_assert_msg_has(err.msg, "BAD_MEASUREMENT");
	ck_assert_msg_has(err.msg, "cloak-owner session");
	ck_assert_int_lt(psp_vm(psp, VM, KVM_SEV_LAUNCH_FINISH, NULL, NULL, &err), 0);
	ck_assert_msg_has(err.msg, "INVALID_GUEST_STATE");
	ck_assert_int_lt(psp_vm(psp, VM + 1, KVM_SEV_LAUNCH_FINISH, NULL, NULL, &err), 0);
	ck_assert_msg_has(err.msg, "ENOTTY");
}
END_TEST

START_TEST(sim_key_file_is_kept_between_runs)
{
	struct psp_sim_params p;
	struct cloak_err err = { "" };
	char path[] = "/tmp/cloak-sev-keyXXXXXX";
	uint8_t a[SEV_CERT_LEN], b[SEV_CERT_LEN];
	struct psp *x;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(path);
	psp_sim_default_params(&p);
	p.pdh_key_path = path;
	x = psp_sim_open(&p, &err);  /* missing and not to be created */
	ck_assert_ptr_null(x);
	ck_assert_msg_has(err.msg, "cloak sev-export");
	p.create_key = true;
	x = psp_sim_open(&p, &err);
	ck_assert_msg(x != NULL, "%s", err.msg);
	ck_assert_int_eq(psp_pdh_export(x, a, &err), 0);
	psp_close(x);
	p.create_key = false;
	x = psp_sim_open(&p, &err);
	ck_assert_msg(x != NULL, "%s", err.msg);
	ck_assert_int_eq(psp_pdh_export(x, b, &err), 0);
	psp_close(x);
	ck_assert_mem_eq(a, b, SEV_CERT_LEN);
	unlink(path);
}
END_TEST

/* The plain view is RAM minus (guarded minus shared): the interval arithmetic behind it. */
START_TEST(memview_ranges_subtract)
{
	const struct sim_range ram[] = { { 0, 0x100000 }, { 0x200000, 0x400000 } };
	const struct sim_range holes[] = { { 0x1000, 0x3000 }, { 0xff000, 0x201000 }, { 0x3ff000, 0x500000 } };
	struct sim_range out[8];

	ck_assert_int_eq(sim_ranges_subtract(ram, 2, holes, 3, out, 8), 3);
	ck_assert_uint_eq(out[0].start, 0);
	ck_assert_uint_eq(out[0].end, 0x1000);
	ck_assert_uint_eq(out[1].start, 0x3000);
	ck_assert_uint_eq(out[1].end, 0xff000);
	ck_assert_uint_eq(out[2].start, 0x201000);
	ck_assert_uint_eq(out[2].end, 0x3ff000);
	/* Nothing taken away: the same ranges; everything taken away: none. */
	ck_assert_int_eq(sim_ranges_subtract(ram, 2, NULL, 0, out, 8), 2);
	ck_assert_uint_eq(out[1].end, 0x400000);
	ck_assert_int_eq(sim_ranges_subtract(ram, 2, (struct sim_range[]){ { 0, 0x400000 } }, 1, out, 8), 0);
	/* More pieces than room: refused, not cut short. */
	ck_assert_int_eq(sim_ranges_subtract(ram, 2, holes, 3, out, 2), -1);
}
END_TEST

START_TEST(memview_mode_comes_from_the_environment)
{
	struct cloak_err err = { "" };

	unsetenv("CLOAK_SIM_MEMORY");
	ck_assert_int_eq(sim_memory_mode_from_env(&err), SIM_MEMORY_STRICT);
	setenv("CLOAK_SIM_MEMORY", "report", 1);
	ck_assert_int_eq(sim_memory_mode_from_env(&err), SIM_MEMORY_REPORT);
	setenv("CLOAK_SIM_MEMORY", "off", 1);
	ck_assert_int_eq(sim_memory_mode_from_env(&err), SIM_MEMORY_OFF);
	setenv("CLOAK_SIM_MEMORY", "yes", 1);
	ck_assert_int_eq(sim_memory_mode_from_env(&err), -1);
	ck_assert_msg(strstr(err.msg, "CLOAK_SIM_MEMORY=yes"), "%s", err.msg);
	unsetenv("CLOAK_SIM_MEMORY");
}
END_TEST

Suite *sim_suite(void)
{
	Suite *s = suite_create("psp_sim");
	TCase *t = tcase_create("sim");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, platform_status_reports_the_simulated_platform);
	tcase_add_test(t, commands_before_init_get_enotty);
	tcase_add_test(t, init_rules);
	tcase_add_test(t, es_rules);
	tcase_add_test(t, out_of_order_commands_get_invalid_guest_state);
	tcase_add_test(t, misaligned_updates_are_refused);
	tcase_add_test(t, the_same_page_is_never_updated_twice);
	tcase_add_test(t, measure_is_hmac_of_the_running_digest);
	tcase_add_test(t, bad_policies_fail_at_launch_start);
	tcase_add_test(t, a_session_opens_and_keys_the_measurement);
	tcase_add_test(t, session_mismatches_get_bad_measurement);
	tcase_add_test(t, a_session_for_another_platform_does_not_open);
	tcase_add_test(t, bad_godh_and_lengths);
	tcase_add_test(t, secrets_are_checked_and_decrypted);
	tcase_add_test(t, asids_run_out_with_ebusy);
	tcase_add_test(t, pdh_export_answers_the_length_query);
	tcase_add_test(t, failures_name_the_command_and_status);
	tcase_add_test(t, sim_key_file_is_kept_between_runs);
	tcase_add_test(t, memview_ranges_subtract);
	tcase_add_test(t, memview_mode_comes_from_the_environment);
	suite_add_tcase(s, t);
	return s;
}
