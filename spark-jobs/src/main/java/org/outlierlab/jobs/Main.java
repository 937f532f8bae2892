package org.outlierlab.jobs;

import com.typesafe.config.Config;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.outlierlab.dataprep.DataPrepSettings;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigLoader;
import org.outlierlab.jobs.config.ConfigReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Entry point of bin/oflab and of spark-submit: {@code <job> [options]}. */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  /** Each job and the configuration section its short options belong to. */
  private static final Map<String, String> JOBS = Map.of("data-prep", DataPrepConfig.SECTION);

  private Main() {}

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

  static int run(String[] args) throws Exception {
    CommandLine cli = CommandLine.parse(args, JOBS, ConfigLoader.defaults().root().keySet());
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
    ConfigReader reader = new ConfigReader(config);
    DataPrepSettings settings = DataPrepConfig.read(reader); // validated before Spark starts
    LOG.info("resolved configuration:\n{}", ConfigLoader.render(config, List.of("spark", DataPrepConfig.SECTION)));
    SparkSession spark = SparkSessions.create(config, cli.job());
    try {
      // The manifest records how the data was made; whether it replaced an older output is not part of that.
      DataPrepJob.run(spark, settings, config.getConfig(DataPrepConfig.SECTION).withoutPath("overwrite").root().unwrapped());
      return 0;
    } finally {
      spark.stop();
    }
  }

  /** The message a user needs: ours speak for themselves, others keep their type. */
  private static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getMessage() == null) {
      root = root.getCause();
    }
    if (root instanceof java.io.FileNotFoundException) {
      return "not found: " + root.getMessage();
    }
    if (root instanceof AtomicDirectory.OutputExistsException || root instanceof DataPrepJob.BadInputException) {
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
        Every option is a key of conf/defaults.conf; --key for the job's own section, --section.key otherwise.""";
  }

  private static String jobHelp(String job) {
    return "bin/oflab " + job + " [--conf FILE]... [--master URL] [--key value]...\n"
        + "Options are the keys below (--seq_len 256, --codeparrot.text_field text), as documented in"
        + " conf/defaults.conf:\n\n" + ConfigLoader.documentedSection(JOBS.get(job));
  }
}
