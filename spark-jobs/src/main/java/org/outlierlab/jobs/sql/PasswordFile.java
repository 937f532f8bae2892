package org.outlierlab.jobs.sql;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import org.outlierlab.jobs.config.ConfigError;

/**
 * The sql-server's users: a local text file, one line per user, {@code user:pbkdf2-sha512:<iterations>:<salt>:<hash>}
 * (salt and hash in base64), '#' starting a comment line. Only salted PBKDF2 hashes are stored, never a password.
 * bin/oflab sql-user writes it ({@link #set}); the server reads it at every login, so a user added while it serves
 * can connect at once.
 */
final class PasswordFile {
  static final String SCHEME = "pbkdf2-sha512";
  /** OWASP's recommendation for PBKDF2-HMAC-SHA512 (2023): a login costs a fraction of a second. */
  static final int ITERATIONS = 210_000;
  private static final int SALT_BYTES = 16;
  private static final int HASH_BITS = 512;
  private static final String USER = "[A-Za-z0-9._@-]+";

  private record Entry(int iterations, byte[] salt, byte[] hash) {}

  private final Map<String, Entry> users;

  private PasswordFile(Map<String, Entry> users) {
    this.users = users;
  }

  /** The users of {@code file}; a ConfigError naming {@code key}, the line and the fix when it is not one. */
  static PasswordFile read(Path file, String key) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new ConfigError(key + " = '" + file + "' does not exist; add a user with bin/oflab sql-user NAME (it"
          + " asks for the password)");
    }
    Map<String, Entry> users = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split(":", -1);
      try {
        if (f.length != 5 || !f[0].matches(USER) || !f[1].equals(SCHEME)) {
          throw new IllegalArgumentException("not user:" + SCHEME + ":iterations:salt:hash");
        }
        users.put(f[0], new Entry(Integer.parseInt(f[2]), Base64.getDecoder().decode(f[3]),
            Base64.getDecoder().decode(f[4])));
      } catch (IllegalArgumentException e) {
        throw new ConfigError(key + " = '" + file + "': line " + (i + 1) + " is not a user's line (" + e.getMessage()
            + "); remove it and set that user's password again with bin/oflab sql-user NAME");
      }
    }
    if (users.isEmpty()) {
      throw new ConfigError(key + " = '" + file + "' has no users; add one with bin/oflab sql-user NAME");
    }
    return new PasswordFile(users);
  }

  Set<String> users() {
    return users.keySet();
  }

  /** Whether {@code user} is in the file and {@code password} is theirs (compared in constant time). */
  boolean accepts(String user, char[] password) {
    Entry e = users.get(user);
    return e != null && MessageDigest.isEqual(e.hash, hash(password, e.salt, e.iterations));
  }

  /**
   * Sets {@code user}'s password, adding the user or replacing their line and keeping every other line; the file is
   * replaced atomically and readable by its owner only (where the file system has POSIX permissions).
   */
  static void set(Path file, String user, char[] password) throws IOException {
    if (!user.matches(USER)) {
      throw new ConfigError("sql.user = '" + user + "' is not allowed; allowed: letters, digits, '.', '_', '@', '-'");
    }
    if (password.length == 0) {
      throw new ConfigError("the password of " + user + " is empty; give one");
    }
    byte[] salt = new byte[SALT_BYTES];
    new SecureRandom().nextBytes(salt);
    String entry = String.join(":", user, SCHEME, Integer.toString(ITERATIONS),
        Base64.getEncoder().encodeToString(salt), Base64.getEncoder().encodeToString(hash(password, salt, ITERATIONS)));
    List<String> lines = new ArrayList<>();
    boolean replaced = false;
    if (Files.exists(file)) {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        boolean theirs = line.strip().startsWith(user + ":");
        if (theirs && !replaced) {
          lines.add(entry);
        }
        if (!theirs) {
          lines.add(line);
        }
        replaced |= theirs;
      }
    } else {
      lines.add("# sql-server users (bin/oflab sql-user NAME): user:" + SCHEME + ":iterations:salt:hash");
    }
    if (!replaced) {
      lines.add(entry);
    }
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    try {
      if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      }
      Files.write(tmp, lines, StandardCharsets.UTF_8);
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static byte[] hash(char[] password, byte[] salt, int iterations) {
    PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, HASH_BITS);
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA512").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM has no PBKDF2WithHmacSHA512", e);
    } finally {
      spec.clearPassword();
    }
  }
}
