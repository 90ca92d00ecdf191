using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Jobd.Postgres;

/// <summary>
/// One numbered schema change (Postgres/Migrations/NNN_name.sql, embedded). Scripts write {schema} where the
/// configured schema goes; it is substituted quoted, after <see cref="PostgresOptions.IsSchemaName"/> checked it.
/// Migrations only ever add: a released one is never edited, a change is a new number.
/// </summary>
public sealed class Migration
{
    private Migration(int version, string name, string sql)
    {
        Version = version;
        Name = name;
        Sql = sql;
    }

    public int Version { get; }
    public string Name { get; }
    public string Sql { get; }

    public string SqlFor(PostgresOptions options) => Sql.Replace("{schema}", options.QuotedSchema, StringComparison.Ordinal);

    /// <summary>Every embedded migration, in version order.</summary>
    public static IReadOnlyList<Migration> All { get; } = Load();

    private static List<Migration> Load()
    {
        var assembly = typeof(Migration).Assembly;
        var list = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith("migrations.", StringComparison.Ordinal)) continue;
            var name = resource["migrations.".Length..^".sql".Length];
            int underscore = name.IndexOf('_');
            if (underscore < 1 || !int.TryParse(name.AsSpan(0, underscore), NumberStyles.None, CultureInfo.InvariantCulture, out int version))
                throw new InvalidDataException("migration " + resource + " must be named NNN_name.sql");
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            list.Add(new Migration(version, name, reader.ReadToEnd()));
        }
        list.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (int i = 1; i < list.Count; i++)
            if (list[i].Version == list[i - 1].Version) throw new InvalidDataException("two migrations numbered " + list[i].Version);
        return list;
    }
}
