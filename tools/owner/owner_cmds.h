/* owner_cmds.h: cloak-owner's commands for SEV-ES/SNP digests, certificate chains, reports and ID blocks. */
#ifndef CLOAK_OWNER_CMDS_H
#define CLOAK_OWNER_CMDS_H

/* Each takes argv from its command's name on and returns the exit status: 0, 1 (not valid), 2 (bad input). */
int cmd_measure(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_id_block(int argc, char **argv);



#endif
