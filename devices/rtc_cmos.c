/* rtc_cmos.c: the MC146818 CMOS clock at ports 0x70/0x71: the host's UTC time, read-only, no alarms. */
#include "devices.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_WEEKDAY 0x06
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_STATUS_A 0x0a
#define RTC_STATUS_B 0x0b
#define RTC_STATUS_C 0x0c
#define RTC_STATUS_D 0x0d
#define RTC_CENTURY 0x32

#define STATUS_B_24H 0x02
#define STATUS_B_BINARY 0x04
#define STATUS_D_VALID 0x80

/*
 * Without this device a Linux guest reads 0xff for "update in progress" and
 * spins on port 0x71: about 40,000 exits to userspace during boot.
 */
struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t status_b;
	uint8_t cmos[128];  /* what the guest stored in the plain CMOS bytes */
};

static struct rtc rtc;

static uint8_t to_bcd(unsigned v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t rtc_read(struct rtc *r, uint8_t reg)
{
	bool binary = r->status_b & STATUS_B_BINARY;
	time_t now = time(NULL);
	struct tm tm;
	unsigned v;

	gmtime_r(&now, &tm);
	switch (reg) {
	case RTC_SECONDS: v = (unsigned)tm.tm_sec; break;
	case RTC_MINUTES: v = (unsigned)tm.tm_min; break;
	case RTC_HOURS: v = (unsigned)tm.tm_hour; break;
	case RTC_WEEKDAY: v = (unsigned)tm.tm_wday + 1; break;
	case RTC_DAY: v = (unsigned)tm.tm_mday; break;
	case RTC_MONTH: v = (unsigned)tm.tm_mon + 1; break;
	case RTC_YEAR: v = (unsigned)tm.tm_year % 100; break;
	case RTC_CENTURY: v = (unsigned)(tm.tm_year + 1900) / 100; break;
	case RTC_STATUS_A: return 0x26;  /* 32.768 kHz, 1024 Hz rate, never "update in progress" */
	case RTC_STATUS_B: return r->status_b;
	case RTC_STATUS_C: return 0;
	case RTC_STATUS_D: return STATUS_D_VALID;
	default: return r->cmos[reg & 0x7f];
	}
	return binary ? (uint8_t)v : to_bcd(v);
}

static void rtc_io(void *opaque, uint64_t port, bool is_write, uint8_t *data, unsigned size)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	if (port == 0x70) {
		if (is_write)
			r->index = data[0] & 0x7f;  /* bit 7 masks NMIs on a PC; nothing to mask here */
		else
			data[0] = 0xff;
	} else if (is_write) {
		if (r->index == RTC_STATUS_B)
			r->status_b = data[0] & (STATUS_B_24H | STATUS_B_BINARY);
		else if (r->index > RTC_STATUS_D && r->index != RTC_CENTURY)
			r->cmos[r->index] = data[0];
		/* The clock itself stays the host's: writes to it are dropped. */
	} else {
		data[0] = rtc_read(r, r->index);
	}
	pthread_mutex_unlock(&r->lock);
	if (!is_write && size > 1)
		memset(data + 1, 0xff, size - 1);
}

static int rtc_init(struct dev_host *host, struct cloak_err *err)
{
	memset(&rtc, 0, sizeof(rtc));
	pthread_mutex_init(&rtc.lock, NULL);
	rtc.status_b = STATUS_B_24H;
	return devhost_io_register(host, DEV_SPACE_PIO, 0x70, 2, "CMOS RTC", rtc_io, &rtc, err);
}

const struct device_ops rtc_cmos_device = { .name = "CMOS RTC", .init = rtc_init };
