/*
 * cmd_table: every smmctl command, in the order "smmctl help" lists them.
 * A new command is an entry in its group's file plus a line here.
 */
#include <stddef.h>

#include "smmctl.h"

const struct ctl_cmd *const ctl_cmds[] = {
        &cmd_add_entry,      &cmd_import_entry,  &cmd_list_entry,
        &cmd_calendar_entry, &cmd_export_entry,  &cmd_queue_entry,
        &cmd_plan_entry,     &cmd_goals_entry,   &cmd_report_entry,
        &cmd_show_entry,     &cmd_cancel_entry,  &cmd_approve_entry,
        &cmd_retry_entry,    &cmd_resolve_entry, &cmd_reload_entry,
        &cmd_backup_entry,   &cmd_status_entry,  &cmd_log_entry,
        &cmd_stats_entry,    &cmd_pause_entry,   &cmd_resume_entry,
        &cmd_held_entry,     &cmd_release_entry, &cmd_skip_entry,
        &cmd_audit_entry,    &cmd_planb_entry,   &cmd_channels_entry,
        &cmd_auth_entry,     &cmd_help_entry,    NULL,
};
