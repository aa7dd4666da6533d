/* One entry point per subcommand: int cmd_<name>(int argc, char **argv),
 * where argv[0] is the subcommand name. */
#ifndef MAGCLUST_COMMANDS_H
#define MAGCLUST_COMMANDS_H

int cmd_assign(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_knn(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_synth(int argc, char **argv);

#endif
