package org.outlierlab.jobs;

import com.typesafe.config.Config;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import org.outlierlab.dataprep.fs.OutputExistsException;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigLoader;
import org.outlierlab.jobs.dataprep.DataPrepConfig;
import org.outlierlab.jobs.dataprep.DataPrepJob;
import org.outlierlab.jobs.dataprep.DataPrepJobSettings;
import org.outlierlab.jobs.dataprep.DataPrepResult;
import org.outlierlab.jobs.figures.FiguresJob;
import org.outlierlab.jobs.figures.FiguresResult;
import org.outlierlab.jobs.figures.FiguresSettings;
import org.outlierlab.jobs.grid.GridJob;
import org.outlierlab.jobs.grid.GridSettings;
import org.outlierlab.jobs.metrics.MetricsJob;
import org.outlierlab.jobs.metrics.MetricsJobSettings;
import org.outlierlab.jobs.quant.QuantEvalJob;
import org.outlierlab.jobs.quant.QuantEvalResult;
import org.outlierlab.jobs.quant.QuantEvalSettings;
import org.outlierlab.jobs.sql.SqlJob;
import org.outlierlab.jobs.sql.SqlJobSettings;
import org.outlierlab.jobs.sql.SqlServer;
import org.outlierlab.jobs.sql.SqlServerSettings;
import org.outlierlab.jobs.sql.SqlUser;
import org.outlierlab.jobs.sql.SqlUserSettings;
import org.outlierlab.jobs.train.TrainConfig;
import org.outlierlab.jobs.train.TrainJob;
import org.outlierlab.jobs.train.TrainJobSettings;
import org.outlierlab.jobs.train.TrainResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Entry point of bin/oflab and of spark-submit: {@code <job> [options]}. */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  /**
   * A job: the configuration sections it reads (short options belong to the first), how it reads its settings from
   * them (every key validated before the job starts), what it does with them, the lines that report its result and
   * the class whose logger says them, the key a bare first argument sets, if any ({@code bin/oflab sql
   * "SELECT ..."}), and what its --help says after its options (empty: nothing).
   */
  private record Job<S, R>(List<String> sections, Function<Config, S> settings, Action<S, R> action,
      Function<R, List<String>> summary, Class<?> reporter, String positional, String moreHelp) {
    Job(List<String> sections, Function<Config, S> settings, Action<S, R> action, Function<R, List<String>> summary,
        Class<?> reporter) {
      this(sections, settings, action, summary, reporter, null, "");
    }

    /** Runs the job on the configuration and logs its summary; returns its result. */
    R run(Config config) throws Exception {
      R result = action.run(settings.apply(config));
      Logger log = LoggerFactory.getLogger(reporter);
      summary.apply(result).forEach(log::info);
      return result;
    }
  }

  private interface Action<S, R> {
    R run(S settings) throws Exception;
  }

  private static final Map<String, Job<?, ?>> JOBS = new java.util.LinkedHashMap<>();

  static {
    JOBS.put("data-prep", new Job<>(List.of(DataPrepConfig.SECTION, "spark"), DataPrepJobSettings::read,
        DataPrepJob::run, DataPrepResult::summary, DataPrepJob.class));
    JOBS.put("train", new Job<>(List.of(TrainConfig.TRAIN, TrainConfig.MODEL, TrainConfig.BLAS, "spark"),
        TrainJobSettings::read, TrainJob::run, TrainResult::summary, TrainJob.class));
    JOBS.put("grid", new Job<>(List.of(GridSettings.SECTION, TrainConfig.TRAIN, TrainConfig.MODEL, TrainConfig.BLAS,
        MetricsJob.SECTION, QuantEvalSettings.SECTION, "spark"), GridSettings::read, GridJob::run, Main::nothingMore,
        GridJob.class));
    JOBS.put("metrics", new Job<>(List.of(MetricsJob.SECTION, "spark"), MetricsJobSettings::read, MetricsJob::run,
        Main::nothingMore, MetricsJob.class, null, MetricsJobSettings.statisticsHelp()));
    JOBS.put("quant-eval", new Job<>(List.of(QuantEvalSettings.SECTION, "spark"), QuantEvalSettings::read,
        QuantEvalJob::run, QuantEvalResult::summary, QuantEvalJob.class));
    JOBS.put("figures", new Job<>(List.of(FiguresSettings.SECTION, "spark"), FiguresSettings::read, FiguresJob::run,
        FiguresResult::summary, FiguresJob.class));
    JOBS.put("sql", new Job<>(List.of(SqlJob.SECTION, "spark"), SqlJobSettings::read, SqlJob::run, Main::nothingMore,
        SqlJob.class, "sql.query", ""));
    JOBS.put("sql-server", new Job<>(List.of(SqlJob.SECTION, "spark"), SqlServerSettings::read, SqlServer::serve,
        Main::nothingMore, SqlServer.class));
    JOBS.put("sql-user", new Job<>(List.of(SqlJob.SECTION), SqlUserSettings::read, SqlUser::run, Main::nothingMore,
        SqlUser.class, "sql.user", ""));
  }

  private Main() {}

  /** The summary of a job that says all it has to say while it runs. */
  private static List<String> nothingMore(Object result) {
    return List.of();
  }

  public static void main(String[] args) {
    int status;
    try {
      status = run(args);
    } catch (ConfigError e) {
      System.err.println("oflab: invalid configuration: " + e.getMessage());
      status = 2;
    } catch (Exception e) {
      System.err.println("oflab: " + describe(e));
      LOG.debug("failure", e);
      status = 1;
    }
    System.exit(status);
  }

  /** Runs the command line's job; the exit status bin/oflab reports for a usage or help request, else 0. */
  public static int run(String[] args) throws Exception {
    return run(args, result -> { });
  }

  /** As {@link #run(String[])}, handing the job's result, when a job ran, to {@code results}. */
  public static int run(String[] args, Consumer<Object> results) throws Exception {
    Map<String, String> primarySection = new java.util.HashMap<>();
    JOBS.forEach((name, job) -> primarySection.put(name, job.sections().get(0)));
    CommandLine cli = CommandLine.parse(withPositional(args), primarySection, ConfigLoader.defaults().root().keySet());
    if (cli.job() == null || (cli.help() && !JOBS.containsKey(cli.job()))) {
      System.out.println(usage());
      return cli.job() == null ? 2 : 0;
    }
    if (!JOBS.containsKey(cli.job())) {
      throw new ConfigError("unknown job '" + cli.job() + "'; allowed: " + String.join(", ", JOBS.keySet()));
    }
    if (cli.help()) {
      System.out.println(jobHelp(cli.job()));
      return 0;
    }
    Config config = ConfigLoader.load(cli.confFiles(), cli.overrides());
    Job<?, ?> job = JOBS.get(cli.job());
    LOG.info("resolved configuration:\n{}", ConfigLoader.render(config, job.sections()));
    Object result = job.run(config);
    LOG.debug("{}: {}", cli.job(), result);
    results.accept(result);
    return 0;
  }

  /** A job's one bare argument (not an option's value), as {@code --<its key> <argument>}. */
  private static String[] withPositional(String[] args) {
    if (args.length < 2 || !JOBS.containsKey(args[0]) || JOBS.get(args[0]).positional() == null) {
      return args;
    }
    for (int i = 1; i < args.length; i++) {
      if (!args[i].startsWith("--")) {
        List<String> out = new java.util.ArrayList<>(List.of(args));
        out.add(i, "--" + JOBS.get(args[0]).positional());
        return out.toArray(new String[0]);
      }
      if (!args[i].contains("=") && i + 1 < args.length && !args[i + 1].startsWith("--")) {
        i++; // the option's value
      }
    }
    return args;
  }

  /** The message a user needs: ours speak for themselves, others keep their type. */
  public static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getMessage() == null) {
      root = root.getCause();
    }
    if (root instanceof java.io.FileNotFoundException) {
      return "not found: " + root.getMessage();
    }
    if (root instanceof OutputExistsException || root instanceof DataPrepJob.BadInputException
        || root instanceof org.outlierlab.model.train.TrainStep.DivergedException
        || root instanceof GridJob.PointsFailedException
        || root instanceof org.outlierlab.model.run.Snapshots.NotASnapshotException
        || root instanceof org.outlierlab.dataprep.fs.WritableDirectory.NotWritableException) {
      return root.getMessage();
    }
    return root.getClass().getSimpleName() + ": " + root.getMessage();
  }

  private static String usage() {
    return """
        usage: bin/oflab <job> [--conf FILE]... [--master URL] [--key value]...
               bin/oflab submit-command <job> [options]   (print the spark-submit line for a cluster)
        jobs:
          data-prep   corpus files into tokenised Parquet shards (bin/oflab data-prep --help)
          train       a transformer LM on those shards, writing snapshots and logs (bin/oflab train --help)
          grid        train every point of a grid of settings (conf/grids/), then metrics (and quant-eval) over them
          metrics     snapshots into per-layer kurtosis, max-median ratio and Gram statistics (bin/oflab metrics --help)
          quant-eval  trained checkpoints in full precision and fake-quantised int8: quant_eval, quant_error tables
          figures     the paper's figures as PNGs (with each one's data as CSV) from the warehouse's tables
          sql         a Spark SQL query over the warehouse's tables (bin/oflab sql "SELECT ..."); no query: a shell
          sql-server  a thrift (JDBC/ODBC) server over the same tables, for beeline and BI tools (--port 10000)
          sql-user    add a user of sql-server (sql.auth = password) or change their password: sql-user NAME
        Every option is a key of conf/defaults.conf; --key for the job's own section, --section.key otherwise.""";
  }

  private static String jobHelp(String job) {
    List<String> sections = JOBS.get(job).sections().stream().filter(s -> !s.equals("spark")).toList();
    StringBuilder help = new StringBuilder("bin/oflab " + job + " [--conf FILE]... [--master URL] [--key value]...\n"
        + "Options are the keys below: --key for " + sections.get(0) + ".key, --section.key for the others;"
        + " as documented in conf/defaults.conf:\n");
    for (String section : sections) {
      help.append('\n').append(ConfigLoader.documentedSection(section)).append('\n');
    }
    String more = JOBS.get(job).moreHelp();
    return more.isEmpty() ? help.toString() : help.append('\n').append(more).toString();
  }
}
