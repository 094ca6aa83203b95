#include "owner_cmds.h"
const char owner_cmds_usage[] = "";
int cmd_report(int a, char **b){(void)a;(void)b;return 2;}
int cmd_id_block(int a, char **b){(void)a;(void)b;return 2;}
