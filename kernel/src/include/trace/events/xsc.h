/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XSC ring tracing: one event per completion the kernel posts, as
 * io_uring's io_uring_complete (tracefs: events/xsc/xsc_complete).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM xsc

#if !defined(_TRACE_XSC_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_XSC_H

#include <linux/tracepoint.h>

/**
 * xsc_complete - a completion posted to a thread's completion ring
 * @region: the ring region (the thread's)
 * @opcode: the entry's operation (the system call number)
 * @user_data: the entry's user_data
 * @result: the result posted
 * @flags: the completion's CQE_F_* flags
 * @poller: consumed by the process's poller, not inline
 */
TRACE_EVENT(xsc_complete,

	TP_PROTO(unsigned long region, u32 opcode, u64 user_data, s64 result,
		 u32 flags, bool poller),

	TP_ARGS(region, opcode, user_data, result, flags, poller),

	TP_STRUCT__entry(
		__field(unsigned long, region)
		__field(u32, opcode)
		__field(u64, user_data)
		__field(s64, result)
		__field(u32, flags)
		__field(bool, poller)
	),

	TP_fast_assign(
		__entry->region = region;
		__entry->opcode = opcode;
		__entry->user_data = user_data;
		__entry->result = result;
		__entry->flags = flags;
		__entry->poller = poller;
	),

	TP_printk("region=%#lx opcode=%u user_data=%#llx result=%lld flags=%#x by=%s",
		  __entry->region, __entry->opcode,
		  (unsigned long long)__entry->user_data,
		  (long long)__entry->result, __entry->flags,
		  __entry->poller ? "poller" : "inline")
);

#endif /* _TRACE_XSC_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
