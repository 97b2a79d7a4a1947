#pragma once
/// @file The binaries' `--config FILE` (TOML; its keys are the long option names). Strict: a key
/// that names no option is refused with its name (CLI11 alone ignores it, so a misspelt key would
/// silently keep its default), and so is a [section]. `key = []` sets a list option to no values
/// (e.g. `peers = []` of a single-validator chain), which CLI11 alone refuses.

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace ballotchain::app {

class strict_config : public CLI::ConfigTOML {
public:
    explicit strict_config(const CLI::App& app) : app_(app) {}

    std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
        auto parsed_items = CLI::ConfigTOML::from_config(input);
        std::vector<CLI::ConfigItem> kept;
        for (auto& it : parsed_items) {
            // CLI11 emits "++"/"--" items around sections; a real section has parents.
            if (it.name == "++" || it.name == "--") continue;
            if (!it.parents.empty())
                throw CLI::ConfigError("config file: sections are not used ([" + it.parents.front() +
                                       "]); write every key at the top level");
            const CLI::Option* op = app_.get_option_no_throw("--" + it.name);
            if (op == nullptr || !op->get_configurable())
                throw CLI::ConfigError("config file: unknown key '" + it.name +
                                       "' (the keys are the long option names of --help, without the dashes)");
            if (it.inputs.empty()) continue;  // `key = []`: none (the option's default is no values)
            kept.push_back(std::move(it));
        }
        return kept;
    }

private:
    const CLI::App& app_;
};

/// Adds `--config FILE` to `app`, strict as described above.
inline void add_config_option(CLI::App& app, const std::string& help) {
    app.set_config("--config", "", help);
    app.config_formatter(std::make_shared<strict_config>(app));
}

}  // namespace ballotchain::app
