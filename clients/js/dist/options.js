/**
 * The client's public shapes: its options, connection states, signals and interface
 * (implemented by `createClient` in client.ts).
 */
/** A token for another user than the one this client connected as: the client stops. */
export class UserSwitchError extends Error {
    constructor(user, tokenUser) {
        super(`a token for user "${tokenUser}" was given to the client of user "${user}": refused; ` +
            "close this client and create a new one for another user");
        this.name = "UserSwitchError";
        this.user = user;
        this.tokenUser = tokenUser;
    }
}
